"""run_pretrain.py with s3prl 0.4.18's flags (its pretrain/README.md): ``-u audio_albert``, ``-g``
(s3prl's config_model.yaml), ``-a``, ``--multi_gpu``; its other pretraining upstreams are refused."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from s3prl_config_model import config_model

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.pretrain.cli import main

# s3prl's pretrain/audio_albert/config_model.yaml at a test's size: 2 shared layers, other mask settings
S3PRL_MODEL = config_model(layers=2, share=True, hidden=32, heads=2, ffn=64)
S3PRL_MODEL["task"].update(mask_proportion=0.2, mask_consecutive_min=5, mask_consecutive_max=5)
# s3prl reads the data and the runner from its config_runner.yaml (not read here): -o says them
RUNNER = "runner.total_steps={steps},,runner.batch_size=2,,data.max_frames=100,,data.roots=[{corpus}]"


@pytest.fixture
def model_config(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "pretrain" / "audio_albert" / "config_model.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(S3PRL_MODEL))
    monkeypatch.chdir(tmp_path)
    return path


def run_pretrain(line: str, corpus: Path, steps: int) -> int:
    """``python run_pretrain.py LINE`` plus the -o standing for s3prl's config_runner.yaml: its exit code."""
    try:
        return main([*shlex.split(line), "-o", RUNNER.format(steps=steps, corpus=corpus), "--no-progress"])
    except SystemExit as usage:  # argparse's own usage errors
        return int(usage.code or 0)


def test_the_readme_line_builds_s3prls_model_and_a_resumes(model_config, corpus_dir):
    line = "-u audio_albert -g pretrain/audio_albert/config_model.yaml -n YourModelName"
    assert run_pretrain(line, corpus_dir, 2) == 0
    exp = Path("result/pretrain/YourModelName")
    ckpt = load_checkpoint_file(exp / "states-2.ckpt")
    transformer = ckpt["Upstream_Config"]["transformer"]
    assert transformer["num_hidden_groups"] == 1 and transformer["share_layer"]  # audio_albert: one shared layer
    assert transformer["hidden_size"] == 32 and transformer["num_hidden_layers"] == 2
    assert ckpt["Config"]["task"]["mask_proportion"] == 0.2 and ckpt["Config"]["task"]["mask_consecutive"] == 5
    assert ckpt["Args"].upstream == "aalbert"
    # s3prl's fault-tolerant -a: the folder has checkpoints, so the run goes on from the latest
    assert run_pretrain(f"{line} -a --multi_gpu", corpus_dir, 4) == 0  # one process, no GPUs: nothing to spread
    assert load_checkpoint_file(exp / "states-4.ckpt")["Step"] == 4


@pytest.mark.parametrize(
    "line, change, message, code",
    [
        ("-u tera -g {g} -n x", {}, "s3prl's tera pretraining is not offered here", 2),
        ("-u mockingjay -g {g} -n x", {}, "share_layer: True but -u mockingjay shares none", 2),
        ("-u audio_albert -g {g} -n x", {"task": {"mask_frequency": 0.2}}, "TERA's frequency masking", 1),
        ("-u audio_albert -g {g} -n x", {"task": {"mask_consecutive_max": 7}}, "spans have one length", 1),
        ("-u audio_albert -g {g} -n x", {"transformer": {"pre_layer_norm": True}}, "only the post-LN", 1),
        ("-u audio_albert -g {g} -n x", {"runner": {"n_epochs": 3}}, "runner: not a section of s3prl's", 1),
    ],
)
def test_what_cannot_be_built_here_says_why(model_config, corpus_dir, capsys, line, change, message, code):
    config = {section: {**S3PRL_MODEL.get(section, {}), **values} for section, values in change.items()}
    model_config.write_text(yaml.safe_dump({**S3PRL_MODEL, **config}))
    assert run_pretrain(line.format(g=model_config), corpus_dir, 2) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
