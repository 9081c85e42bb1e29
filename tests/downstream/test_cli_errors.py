"""run_downstream.py: a bug in a task shows its traceback, a user error one line; --debug shows both."""

import importlib.util

import pytest

import aalbert.downstream.experiment_config as experiment_config
import aalbert.downstream.runner as runner_module
from aalbert.downstream import cli
from aalbert.downstream.registry import Task, load_task

BUGGY_TASK = """
import torch.nn.functional as F
from aalbert.downstream.utterance_classifier import UtteranceClassifierExpert

class Expert(UtteranceClassifierExpert):
    def forward(self, features, lengths, batch):
        logits = self.classifier(features).flatten(0, 1)   # the bug: frames, not utterances
        return F.cross_entropy(logits, batch.speakers)
"""


@pytest.fixture
def buggy_task(tmp_path, monkeypatch, fake_hub):
    path = tmp_path / "buggy_task.py"
    path.write_text(BUGGY_TASK)
    spec = importlib.util.spec_from_file_location("buggy_task", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    task = Task("buggy", module.Expert, load_task("speaker_utterance").default_config, "test")
    for module in (runner_module, experiment_config):
        monkeypatch.setattr(module, "load_task", lambda n: task if n == "buggy" else load_task(n))
    return path


@pytest.fixture
def fake_hub(monkeypatch):
    from downstream_fakes import FakeUpstream

    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: FakeUpstream())


@pytest.mark.parametrize("debug", [False, True])
def test_bug_in_a_task_shows_its_traceback(debug, buggy_task, tone_corpus, tmp_path, capsys):
    argv = [
        "-u",
        "fake",
        "-d",
        "buggy",
        "--expdir",
        str(tmp_path / "exp"),
        "--data",
        str(tone_corpus),
        "-o",
        "runner.total_steps=2",
    ] + (["--debug"] if debug else [])
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "ValueError: Expected input batch_size" in err
    assert err.strip().splitlines()[-1].startswith(f"run_downstream.py: ValueError raised from {buggy_task}, line 8")


@pytest.mark.parametrize("debug", [False, True])
def test_bad_config_key_is_one_line_unless_debug(debug, tone_corpus, capsys, fake_hub):
    argv = ["-u", "fake", "-d", "phone_linear", "-n", "x", "-o", "runner.total_stepz=3"] + (
        ["--debug"] if debug else []
    )
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines()[-1].startswith("run_downstream.py: error: ") and "total_stepz" in err
    assert ("Traceback" in err) == debug
    if not debug:
        assert len(err.strip().splitlines()) == 1
