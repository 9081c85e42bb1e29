"""`aalbert extract --weighted-sum EXPDIR`: the learned layer weights of a trained downstream
experiment, applied as its featurizer applies them."""

from __future__ import annotations

import json

import kaldiio
import numpy as np
import pytest
import torch
from extract_fixtures import tiny_checkpoint

from aalbert import cli
from aalbert.audio import load_audio
from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.downstream.featurizer import Featurizer
from aalbert.hub import load_upstream
from aalbert.testing import make_tone_corpus, train_task


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("weighted")
    corpus = make_tone_corpus(root / "corpus", speakers=3, utterances=4)
    ckpt = tiny_checkpoint(root / "tiny.ckpt")
    expdir = root / "speaker"
    upstream = load_upstream("aalbert_local", ckpt)
    train_task("speaker_utterance", corpus, expdir, steps=20, overrides=("optimizer.lr=0.05",), upstream=upstream)
    return corpus, ckpt, expdir


def test_weighted_sum_equals_the_experiments_featurizer(trained, tmp_path):
    corpus, ckpt, expdir = trained
    state = load_checkpoint_file(expdir / "dev-best.ckpt", expected=dict)["model"]["featurizer"]
    featurizer = Featurizer(3, "weighted_sum")
    featurizer.load_state_dict(state)
    weights = json.loads((expdir / "results.json").read_text())["featurizer"]["layer_weights"]
    assert weights == pytest.approx(featurizer.layer_weights()) and max(weights) - min(weights) > 1e-4  # learned

    out = tmp_path / "ws"
    argv = ["extract", "-u", "aalbert_local", "-k", str(ckpt), "--weighted-sum", str(expdir)]
    assert cli.main([*argv, "--data", str(corpus), "--out", str(out), "--no-progress"]) == 0
    got = dict(kaldiio.load_scp(str(out / "weighted_sum/feats.scp")).items())
    journal = [json.loads(line) for line in (out / "journal/shard-000.jsonl").read_text().splitlines()]
    upstream = load_upstream("aalbert_local", ckpt).eval()
    assert len(got) == len(journal) == 12
    for record in journal:
        with torch.no_grad():
            expected = featurizer(upstream([load_audio(record["audio"]["path"])])["hidden_states"])[0]
        np.testing.assert_allclose(got[record["uttid"]], expected.numpy(), atol=2e-5)

    # from the checkpoint alone (a run that has not written results.json yet): the same numbers
    (expdir / "results.json").rename(expdir / "results.json.aside")
    try:
        assert cli.main([*argv, "--data", str(corpus), "--out", str(tmp_path / "ckpt"), "--no-progress"]) == 0
    finally:
        (expdir / "results.json.aside").rename(expdir / "results.json")
    from_ckpt = dict(kaldiio.load_scp(str(tmp_path / "ckpt/weighted_sum/feats.scp")).items())
    assert all(np.allclose(from_ckpt[u], got[u], atol=1e-6) for u in got)


def test_an_experiment_of_another_upstream_is_refused(trained, tmp_path, capsys):
    corpus, _, expdir = trained
    argv = [
        "extract",
        "-u",
        "fbank",
        "--weighted-sum",
        str(expdir),
        "--data",
        str(corpus),
        "--out",
        str(tmp_path / "o"),
    ]
    assert cli.main(argv) == 1
    assert "weighs 3 hidden states, this upstream has 1" in capsys.readouterr().err


def test_a_cmvn_experiment_is_extracted_with_its_cmvn(trained, tmp_path):
    """featurizer.cmvn=true: the extracted sum normalises each state per utterance as training did."""
    corpus, ckpt, _ = trained
    upstream = load_upstream("aalbert_local", ckpt)
    expdir = tmp_path / "speaker_cmvn"
    overrides = ("optimizer.lr=0.05", "featurizer.cmvn=true")
    train_task("speaker_utterance", corpus, expdir, steps=10, overrides=overrides, upstream=upstream)
    results = json.loads((expdir / "results.json").read_text())
    assert results["featurizer"]["cmvn"] is True
    featurizer = Featurizer(3, "weighted_sum", cmvn=True)
    featurizer.load_state_dict(load_checkpoint_file(expdir / "dev-best.ckpt", expected=dict)["model"]["featurizer"])

    out = tmp_path / "ws"
    argv = ["extract", "-u", "aalbert_local", "-k", str(ckpt), "--weighted-sum", str(expdir)]
    assert cli.main([*argv, "--data", str(corpus), "--out", str(out), "--no-progress"]) == 0
    got = dict(kaldiio.load_scp(str(out / "weighted_sum/feats.scp")).items())
    journal = [json.loads(line) for line in (out / "journal/shard-000.jsonl").read_text().splitlines()]
    upstream.eval()
    for record in journal:
        with torch.no_grad():
            out_states = upstream([load_audio(record["audio"]["path"])])
            expected = featurizer(out_states["hidden_states"], out_states["lengths"])[0]
        np.testing.assert_allclose(got[record["uttid"]], expected.numpy(), atol=2e-5)
        assert abs(float(got[record["uttid"]].mean())) < 1e-3  # each state centred over the utterance
