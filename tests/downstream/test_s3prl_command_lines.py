"""s3prl 0.4.18's own command lines for the tasks we have, run unchanged (what follows ``python3
run_downstream.py`` in s3prl's downstream/README.md, downstream/docs/superb.md and pretrain/README.md),
and what they did: which task trained, which checkpoint was scored on which split, whether the
upstream was fine-tuned.

The one change: every task's defaults train 4 steps (``tiny_runs``). The corpus lies where the tasks'
config looks (data/LibriSpeech); s3prl's users edit a path in s3prl's config for that.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import torch

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.downstream import command, registry
from aalbert.downstream.experiment_config import build_config
from aalbert.hub import load_upstream
from aalbert.testing import make_voxceleb1

TINY = {"runner": {"total_steps": 4, "eval_step": 2, "log_step": 2, "batch_size": 4}}
CKPT = "example_checkpoint/states-1000000.ckpt"  # s3prl's pretrain/README.md names it so


@pytest.fixture
def s3prl_checkout(tmp_path, monkeypatch, tone_corpus, make_s3prl_checkpoint) -> Path:
    """The folder an s3prl user runs from: the corpora at data/LibriSpeech and data/VoxCeleb1, a pretrained checkpoint at
    CKPT (a tiny random Mockingjay), and every task's defaults shortened to 4 steps."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "LibriSpeech").symlink_to(tone_corpus)
    make_voxceleb1(tmp_path / "data" / "VoxCeleb1", speakers=6, videos=2, utterances=3, test_speakers=2)
    (tmp_path / "example_checkpoint").mkdir()
    make_s3prl_checkpoint(CKPT, num_hidden_layers=2)
    monkeypatch.chdir(tmp_path)
    real = registry.Task.default_layers
    monkeypatch.setattr(registry.Task, "default_layers", lambda self: real(self).add(TINY, "tests: 4 steps"))
    return tmp_path


def s3prl(line: str) -> int:
    """``python3 run_downstream.py LINE``."""
    return command.main(shlex.split(line))


def results(expdir: str) -> dict:
    return json.loads(Path(expdir, "results.json").read_text())


def record(expdir: str) -> dict:
    return json.loads(Path(expdir, "experiment.json").read_text())


def test_superb_pr(s3prl_checkout):
    # "Change the path in downstream/ctc/libriphone.yaml": the -c file is ours (s3prl's describes its CSV
    # lists and RNN model); its downstream_expert.modelrc is read as the task's model section
    config = Path("downstream/ctc/libriphone.yaml")
    config.parent.mkdir(parents=True)
    config.write_text("data:\n  roots: [data/LibriSpeech]\ndownstream_expert:\n  modelrc:\n    hidden_size: 32\n")
    assert s3prl("-n ExpName -m train -u fbank -d ctc -c downstream/ctc/libriphone.yaml") == 0
    trained = results("result/downstream/ExpName")
    assert trained["task"] == "phone_ctc" and trained["upstream"]["name"] == "fbank"
    assert trained["config"]["model"]["hidden_size"] == 32
    assert record("result/downstream/ExpName")["asked"] == {"task": "ctc"}  # the name the command gave
    best = load_checkpoint_file(Path("result/downstream/ExpName/dev-best.ckpt"))
    assert trained["evaluated_checkpoint"] == {"file": "dev-best.ckpt", "step": best["state"]["step"], "split": "test"}

    assert s3prl("-m evaluate -e result/downstream/ExpName/dev-best.ckpt") == 0
    scored = results("result/downstream/ExpName")
    assert scored["evaluated_checkpoint"] == trained["evaluated_checkpoint"]
    assert scored["metrics"]["test"]["per"] == pytest.approx(trained["metrics"]["test"]["per"])


def test_superb_sid_and_the_split_scored(s3prl_checkout, capsys):
    assert s3prl("-n ExpName -m train -u fbank -d voxceleb1") == 0
    trained = results("result/downstream/ExpName")
    assert trained["task"] == "speaker_utterance" and trained["asked"] == {"task": "voxceleb1"}
    # VoxCeleb1 as s3prl reads it: its own reader, the official iden_split.txt as the split
    assert trained["config"]["data"]["format"] == "voxceleb1" and trained["config"]["data"]["roots"] == [
        "data/VoxCeleb1"
    ]
    iden = [line.split() for line in Path("data/VoxCeleb1/iden_split.txt").read_text().splitlines()]
    test_ids = sorted(path.removesuffix(".wav") for split, path in iden if split == "3")
    assert Path("result/downstream/ExpName/splits/test.txt").read_text().split() == test_ids
    assert s3prl("-m evaluate -e result/downstream/ExpName/dev-best.ckpt") == 0
    assert results("result/downstream/ExpName")["metrics"]["test"] == pytest.approx(trained["metrics"]["test"])
    # s3prl's README: -t names the split; here the splits are train, dev and test
    assert s3prl('-m evaluate -t "test-clean" -e result/downstream/ExpName/dev-best.ckpt') == 2
    assert "-t test-clean: the splits here are train, dev, test" in capsys.readouterr().err
    assert s3prl("-m evaluate -t dev -e result/downstream/ExpName/states-4.ckpt") == 0  # s3prl's name for it
    dev = results("result/downstream/ExpName")
    assert dev["evaluated_checkpoint"] == {"file": "states-4.ckpt", "step": 4, "split": "dev"}
    assert set(dev["metrics"]) == {"dev_best", "dev", "test"}  # the test scores stay
    assert set(dev["metrics"]["dev"]) == {"accuracy", "loss"}


@pytest.mark.parametrize("family", ["mockingjay", "audio_albert"])
def test_pretrain_readme_loads_a_local_checkpoint_frozen(s3prl_checkout, family):
    assert s3prl(f"-m train -u {family}_local -k {CKPT} -d phone_linear -n ExpName") == 0
    trained = results("result/downstream/ExpName")
    assert trained["task"] == "phone_linear" and trained["upstream"]["name"] == f"{family}_local"
    assert trained["upstream"]["num_layers"] == 2 and not trained["upstream"]["finetune"]
    assert "upstream" not in load_checkpoint_file(Path("result/downstream/ExpName/dev-best.ckpt"))["model"]


def test_finetuning_with_s3prls_long_flags(s3prl_checkout):
    line = (
        f"--mode train --expname ExpName --upstream mockingjay_local --upstream_ckpt {CKPT} "
        "--downstream speaker_linear_utter_libri --upstream_trainable --upstream_feature_selection hidden_states "
        "--upstream_layer_selection 1 --upstream_feature_normalize --seed 3"
    )
    assert s3prl(line) == 0
    trained = results("result/downstream/ExpName")
    assert trained["task"] == "speaker_utterance" and trained["upstream"]["finetune"]
    assert trained["featurizer"]["mode"] == "hidden_states" and trained["featurizer"]["layer"] == 1
    assert trained["config"]["featurizer"]["layer_norm"] and trained["config"]["seed"] == 3
    tuned = load_checkpoint_file(Path("result/downstream/ExpName/dev-best.ckpt"))["model"]["upstream"]
    pretrained = load_upstream("mockingjay_local", CKPT).state_dict()
    assert any(not torch.equal(tuned[k], pretrained[k]) for k in pretrained)  # -f trained the upstream


def test_s3prls_readme_finetune_line_takes_the_last_hidden_state(s3prl_checkout):
    assert (
        s3prl(
            f"-m train -n ExpName -u mockingjay_local -k {CKPT} -d speaker_linear_frame_libri -f -s last_hidden_state"
        )
        == 0
    )
    trained = results("result/downstream/ExpName")
    assert trained["task"] == "speaker_frame" and trained["featurizer"]["mode"] == "last"
    assert "upstream" in load_checkpoint_file(Path("result/downstream/ExpName/dev-best.ckpt"))["model"]
    assert s3prl("-m train -n Layer -u fbank -d speaker_linear_frame_libri -s hidden_state_0") == 0
    assert results("result/downstream/Layer")["featurizer"]["layer"] == 0


def test_fault_tolerant_training_resumes_with_a(s3prl_checkout, capsys):
    line = "-m train -n ExpName -u fbank -d speaker_linear_utter_libri -a"
    assert s3prl(line) == 0 and s3prl(line) == 0  # the second finds the run done: nothing trained again
    assert load_checkpoint_file(Path("result/downstream/ExpName/states-4.ckpt"))["state"]["step"] == 4
    assert s3prl(f"{line} -o config.runner.total_steps=6") == 0  # -a goes on with the folder's run
    assert load_checkpoint_file(Path("result/downstream/ExpName/states-6.ckpt"))["state"]["step"] == 6
    assert results("result/downstream/ExpName")["steps"] == 6
    # s3prl's resume: -e with the folder or its latest checkpoint; another checkpoint is for evaluating
    assert s3prl("-m train -e result/downstream/ExpName/states-6.ckpt -o config.runner.total_steps=8") == 0
    assert load_checkpoint_file(Path("result/downstream/ExpName/states-8.ckpt"))["state"]["step"] == 8
    assert not Path("result/downstream/ExpName/states-6.ckpt").exists()  # the latest state is all a resume needs
    assert s3prl("-m train -e result/downstream/ExpName/dev-best.ckpt -o config.runner.total_steps=10") == 2
    assert "training resumes from the latest state" in capsys.readouterr().err
    assert s3prl("-m evaluate -e result/downstream/ExpName/states-20000.ckpt") == 1
    assert "holds dev-best.ckpt, states-8.ckpt" in capsys.readouterr().err


def test_testing_with_another_config_and_init_ckpt(s3prl_checkout):
    assert s3prl("-m train -n ExpName -u fbank -d speaker_linear_utter_libri") == 0
    trained = results("result/downstream/ExpName")
    line = '-m evaluate -t "test" -i result/downstream/ExpName/dev-best.ckpt -u fbank -d speaker_linear_utter_libri'
    assert s3prl(f"{line} -n TestExpName") == 0
    tested = results("result/downstream/TestExpName")
    assert tested["evaluated_checkpoint"]["file"] == "result/downstream/ExpName/dev-best.ckpt"
    assert tested["metrics"]["test"] == pytest.approx(trained["metrics"]["test"])  # those weights, that split
    # -m train -i: a new run starts from those weights
    assert (
        s3prl("-m train -n FromBest -u fbank -d speaker_linear_utter_libri -i result/downstream/ExpName/dev-best.ckpt")
        == 0
    )
    assert results("result/downstream/FromBest")["config"]["init_ckpt"] == "result/downstream/ExpName/dev-best.ckpt"


def test_override_of_the_task_model_and_what_has_no_counterpart(s3prl_checkout, capsys):
    hidden = "config.downstream_expert.modelrc.hidden_size=48,,config.downstream_expert.modelrc.dropout=0.2"
    assert s3prl(f"-m train -n Hidden -u fbank -d phone_1hidden -o {hidden}") == 0
    trained = results("result/downstream/Hidden")
    assert trained["config"]["model"]["hidden_size"] == 48 and trained["config"]["model"]["dropout"] == 0.2
    expert = load_checkpoint_file(Path("result/downstream/Hidden/dev-best.ckpt"))["model"]["expert"]
    assert any(w.shape[0] == 48 for w in expert.values())  # the hidden layer is 48 wide
    assert s3prl("-m train -n Root -u fbank -d phone_1hidden -o config.downstream_expert.datarc.libri_root=/x") == 1
    err = capsys.readouterr().err
    assert "-o downstream_expert.datarc.libri_root=/x: s3prl's" in err and "data.roots" in err
    Path("s3prl.yaml").write_text("downstream_expert:\n  datarc:\n    libri_root: /x\n")
    assert s3prl("-m train -n Root -u fbank -d phone_1hidden -c s3prl.yaml") == 1
    assert "s3prl.yaml: s3prl's downstream_expert.datarc.libri_root has no counterpart" in capsys.readouterr().err
    assert s3prl("-m train -n Seed -u fbank -d phone_1hidden -o args.seed=3") == 1  # s3prl's -o args.NAME
    assert "args.seed sets a command-line flag: give the flag itself (--seed ...)" in capsys.readouterr().err


def test_flags_that_mean_nothing_here_say_why(capsys):
    line = "-m train -n ExpName -u UpstreamName -d DownstreamName --hub huggingface --push_to_hf_hub True"
    assert s3prl(line) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--push_to_hf_hub: not offered" in err
    assert s3prl("-m train -n X -u fbank -d voxceleb1 -v fold1") == 2
    assert "-v/--downstream_variant: not offered" in capsys.readouterr().err


def test_s3prl_task_names_are_listed_and_read(capsys):
    assert command.main(["--list-tasks"]) == 0
    out = capsys.readouterr().out
    for alias, task in (("speaker_linear_utter_libri", "speaker_utterance"), ("timit_phone_1hidden", "phone_1hidden")):
        assert any(line.split()[:3] == [alias, "=", f"{task}:"] for line in out.splitlines())
    timit = build_config("timit_phone_linear")
    assert timit.task == "phone_linear" and timit.data.format == "timit"
    assert build_config("speaker_linear_frame_libri").task == "speaker_frame"


def test_process_flags_take_effect(s3prl_checkout, capsys, monkeypatch):
    # --cache_dir calls torch.hub.set_dir: put torch's own setting back after (None: follow TORCH_HOME),
    # not the folder it resolves to now, or every later test would find the cache there
    monkeypatch.setattr(torch.hub, "_hub_dir", torch.hub._hub_dir)
    cudnn = torch.backends.cudnn.enabled
    monkeypatch.delenv("LOCAL_RANK", raising=False)
    try:
        line = "-m train -n V -u fbank -d voxceleb1 --verbose --cache_dir cache --disable_cudnn --backend gloo"
        assert s3prl(f"{line} --local_rank 0 -g ignored.yaml -r") == 0
        assert torch.hub.get_dir() == "cache" and not torch.backends.cudnn.enabled
    finally:
        torch.backends.cudnn.enabled = cudnn
    out = capsys.readouterr().out
    assert "DownstreamModel(" in out and "parameters: " in out and ", trained: " in out  # --verbose
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert s3prl("-m train -n W -u fbank -d voxceleb1 --local_rank 0") == 2
    assert "--local_rank 0 but LOCAL_RANK=1" in capsys.readouterr().err
