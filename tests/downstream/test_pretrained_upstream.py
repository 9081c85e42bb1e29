"""``run_downstream.py -u aalbert``: the published model by name, from a pre-filled hub cache."""

from __future__ import annotations

import json
import shutil
import warnings

import pytest
import torch
from loaded_weights import assert_holds_checkpoint_weights

from aalbert.checkpoint_file import SkippedPickleWarning
from aalbert.downstream import cli
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner
from aalbert.upstream import pretrained
from aalbert.upstream.checkpoint import upstream_from_checkpoint


@pytest.fixture
def cached_aalbert(make_s3prl_checkpoint, monkeypatch, tmp_path):
    """The cache as a first download leaves it, and no network allowed from here on."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("AALBERT_OFFLINE", "1")
    source = make_s3prl_checkpoint(
        num_hidden_layers=3, num_hidden_groups=1, hidden_size=32, num_attention_heads=2, intermediate_size=64, seed=7
    )
    path = pretrained.find_pretrained("aalbert").cache_path()
    path.parent.mkdir(parents=True)
    shutil.copy(source, path)
    return path


def test_runner_uses_the_pretrained_weights(cached_aalbert, tone_corpus, tmp_path, speech_like):
    cfg = build_config(
        "phone_linear",
        overrides=[f"data.roots=[{tone_corpus}]", "runner.total_steps=4", "runner.eval_step=4"],
        upstream="aalbert",
    )
    runner = Runner(cfg, tmp_path / "exp")
    reference = upstream_from_checkpoint(cached_aalbert)
    wave = speech_like(1.2)
    with torch.inference_mode():
        ours = runner.model.upstream([wave])["hidden_states"]
        theirs = reference([wave])["hidden_states"]
    assert len(ours) == 4
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)
    runner.train()


def test_cli_trains_on_the_pretrained_model(cached_aalbert, tone_corpus, tmp_path, monkeypatch, speech_like):
    runners = []

    class SeenRunner(Runner):  # the runner the command builds, kept to look at its model afterwards
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            runners.append(self)

    monkeypatch.setattr(cli, "Runner", SeenRunner)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedPickleWarning)
        res = cli.run(
            [
                "-m",
                "train",
                "-u",
                "aalbert",
                "-d",
                "speaker_utterance",
                "--expdir",
                str(tmp_path / "exp"),
                "--data",
                str(tone_corpus),
                "-o",
                "runner.total_steps=6,runner.eval_step=6",
            ]
        )
    assert res["upstream"]["name"] == "aalbert" and res["steps"] == 6
    assert json.loads((tmp_path / "exp" / "results.json").read_text())["upstream"]["name"] == "aalbert"
    # the model it trained on holds the cached file's weights, still (frozen), and computes what that file's model does
    (runner,) = runners
    upstream = runner.model.upstream
    assert_holds_checkpoint_weights(upstream, cached_aalbert)
    wave = speech_like(0.8)
    with torch.inference_mode():
        ours = upstream.eval()([wave])["hidden_states"]
        theirs = upstream_from_checkpoint(cached_aalbert)([wave])["hidden_states"]
    assert len(ours) == len(theirs) == 4 and all(torch.equal(a, b) for a, b in zip(ours, theirs))


def test_offline_without_cache_is_one_clear_error(monkeypatch, tmp_path, capsys, tone_corpus):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("AALBERT_OFFLINE", "1")
    code = cli.main(
        [
            "-m",
            "train",
            "-u",
            "aalbert",
            "-d",
            "phone_linear",
            "--expdir",
            str(tmp_path / "exp"),
            "--data",
            str(tone_corpus),
        ]
    )
    err = capsys.readouterr().err
    assert code != 0 and "AALBERT_OFFLINE" in err and pretrained.find_pretrained("aalbert").url in err
    assert "Traceback" not in err
