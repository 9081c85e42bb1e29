import json

import pytest
import torch
from downstream_fakes import FakeUpstream

import aalbert.downstream.runner as runner_module
from aalbert.downstream import cli
from aalbert.downstream.experiment_config import build_config
from aalbert.errors import UsageError


@pytest.fixture
def fake_hub(monkeypatch):
    calls = []

    def load(name, ckpt):
        calls.append((name, ckpt))
        return FakeUpstream()

    monkeypatch.setattr(runner_module, "load_upstream_by_name", load)
    return calls


def test_train_then_evaluate(tone_corpus, tmp_path, fake_hub):
    expdir = tmp_path / "exp"
    res = cli.run(
        [
            "-m",
            "train",
            "-u",
            "aalbert_local",
            "-k",
            "ckpt.pt",
            "-d",
            "speaker_utterance",
            "--expdir",
            str(expdir),
            "--data",
            str(tone_corpus),
            "-s",
            "hidden_states",
            "-l",
            "1",
            "-o",
            "runner.total_steps=20,runner.eval_step=10",
            "-o",
            "optimizer.lr=0.01",
        ]
    )
    assert fake_hub == [("aalbert_local", "ckpt.pt")]
    assert res["featurizer"]["mode"] == "hidden_states" and res["featurizer"]["layer"] == 1
    assert res["featurizer"]["layer_weights"] == [0.0, 1.0, 0.0]
    assert res["upstream"]["ckpt"] == "ckpt.pt" and res["steps"] == 20
    first_test = res["metrics"]["test"]
    # evaluate mode reloads the best checkpoint and reproduces the test metrics
    again = cli.run(["-m", "evaluate", "-e", str(expdir)])
    assert again["metrics"]["test"]["accuracy"] == pytest.approx(first_test["accuracy"])
    assert json.loads((expdir / "results.json").read_text())["metrics"]["test"] == again["metrics"]["test"]


def test_label_fraction_and_name(tone_corpus, tmp_path, fake_hub, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = cli.run(
        [
            "-u",
            "fake",
            "-d",
            "phone_linear",
            "-n",
            "low",
            "--data",
            str(tone_corpus),
            "--label-fraction",
            "0.1",
            "-o",
            "runner.total_steps=4,runner.eval_step=2",
        ]
    )
    # phone tasks split speakers (1 of the 3 trains: 10 utterances); 10% of 10 -> 1
    assert res["data"]["utterances"]["train"] == 1
    assert (tmp_path / "result" / "downstream" / "low" / "results.json").is_file()


def test_unknown_task_is_one_clear_error(capsys, fake_hub):
    assert cli.main(["-u", "fake", "-d", "nope", "-n", "x"]) == 1
    err = capsys.readouterr().err
    assert "unknown downstream task 'nope'" in err and "phone_linear" in err and "speaker_frame" in err


def test_bad_override_names_the_key(capsys, tone_corpus, fake_hub):
    assert cli.main(["-u", "fake", "-d", "phone_linear", "-n", "x", "-o", "runner.total_stepz=3"]) == 1
    assert "total_stepz" in capsys.readouterr().err


def test_evaluate_needs_an_expdir():
    with pytest.raises(UsageError, match="-e EXPDIR"):
        cli.run(["-m", "evaluate", "-d", "phone_linear"])
    assert cli.main(["-m", "evaluate", "-d", "phone_linear"]) == 2  # as argparse's own usage errors


@pytest.mark.parametrize(
    "flags, mode, layer",
    [
        (["-s", "hidden_states"], "weighted_sum", None),  # s3prl: the weighted sum of every hidden state
        (["-s", "hidden_states", "-l", "2"], "hidden_states", 2),
        (["-s", "last_hidden_state"], "last", None),
        (["-s", "weighted_sum"], "weighted_sum", None),
        (["-l", "0"], "hidden_states", 0),
    ],
)
def test_feature_selection_follows_s3prl(flags, mode, layer):
    args = cli.parse_args(["-u", "fake", "-d", "phone_linear", "-n", "x", *flags])
    featurizer = build_config("phone_linear", flags=cli.flag_settings(args)).featurizer
    assert featurizer.mode == mode and featurizer.layer == layer


def test_s3prl_flags_e_with_a_checkpoint_file_p_and_inference(tone_corpus, tmp_path, fake_hub, capsys, monkeypatch):
    expdir = tmp_path / "exp"
    cli.run(
        [
            "-m",
            "train",
            "-u",
            "fake",
            "-d",
            "speaker_utterance",
            "-p",
            str(expdir),
            "--data",
            str(tone_corpus),
            "-o",
            "runner.total_steps=4,,runner.eval_step=4",
        ]
    )
    again = cli.run(["-m", "evaluate", "-e", str(expdir / "dev-best.ckpt")])  # s3prl's -e takes the checkpoint file
    assert again["steps"] == 4
    assert again["evaluated_checkpoint"] == {"file": "dev-best.ckpt", "step": 4, "split": "test"}
    # -e names the file that is evaluated: a states-N.ckpt unlike dev-best.ckpt is read and scored, not dev-best.ckpt
    last = torch.load(expdir / "states-4.ckpt", weights_only=True)
    last["model"]["expert"] = {k: torch.zeros_like(v) for k, v in last["model"]["expert"].items()}
    last["state"]["step"] = 3
    torch.save(last, expdir / "states-4.ckpt")
    read = []
    real_load = runner_module.load_checkpoint_file
    monkeypatch.setattr(runner_module, "load_checkpoint_file", lambda path, **kw: read.append(path) or real_load(path))
    scored = cli.run(["-m", "evaluate", "-e", str(expdir / "states-4.ckpt")])
    assert read == [expdir / "states-4.ckpt"]
    assert scored["evaluated_checkpoint"] == {"file": "states-4.ckpt", "step": 3, "split": "test"}
    assert cli.main(["-m", "inference", "-e", str(expdir)]) == 2
    assert "-m evaluate" in capsys.readouterr().err
