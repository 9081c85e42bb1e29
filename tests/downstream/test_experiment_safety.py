"""Downstream experiment folders under misuse and faults: owned folders, exact resume, clean stops."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
import torch
from downstream_fakes import FakeUpstream
from held_process import TIMEOUT_S, dead_pid, freeze_when, frozen_holder
from held_process import run as run_process
from held_process import start as start_process

import aalbert.downstream.runner as runner_module
from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.downstream import cli
from aalbert.downstream.model import DownstreamModel

STEPS = "runner.total_steps=12,runner.eval_step=4,runner.batch_size=4,optimizer.lr=0.01"


@pytest.fixture
def fake_hub(monkeypatch):
    """Upstream names -> fake upstreams whose weights differ by name."""
    monkeypatch.setattr(
        runner_module, "load_upstream_by_name", lambda name, ckpt: FakeUpstream(seed=sum(map(ord, name)))
    )


def train(tone_corpus, expdir, *extra, upstream="fake_a", task="phone_1hidden"):
    return cli.main(
        [
            "-m",
            "train",
            "-u",
            upstream,
            "-d",
            task,
            "--expdir",
            str(expdir),
            "--data",
            str(tone_corpus),
            "-o",
            STEPS,
            *extra,
        ]
    )


def latest(expdir) -> Path:
    """The folder's resume file: its one states-STEP.ckpt (s3prl's name; older ones are pruned)."""
    (found,) = sorted(Path(expdir).glob("states-*.ckpt"))
    return found


def weights(expdir, name: str | None = None) -> dict:
    return load_checkpoint_file(expdir / name if name else latest(expdir))["model"]


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for part in a:
        for key in a[part]:
            assert torch.equal(a[part][key], b[part][key]), f"{part}.{key}"


def test_another_upstream_into_the_folder_is_refused(fake_hub, tone_corpus, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tone_corpus, exp) == 0
    before = (exp / "results.json").read_text()
    assert train(tone_corpus, exp, upstream="fake_b") == 1
    err = capsys.readouterr().err
    assert "holds another downstream run" in err and "fake_a" in err and "fake_b" in err
    assert "--overwrite" in err and "Traceback" not in err
    assert (exp / "results.json").read_text() == before


def test_the_same_command_again_trains_nothing_new(fake_hub, tone_corpus, tmp_path, monkeypatch):
    exp = tmp_path / "exp"
    assert train(tone_corpus, exp) == 0
    first = json.loads((exp / "results.json").read_text())
    checkpoints = {name: (exp / name).read_bytes() for name in ("states-12.ckpt", "dev-best.ckpt")}
    steps = count_training_steps(monkeypatch)
    assert train(tone_corpus, exp) == 0
    again = json.loads((exp / "results.json").read_text())
    assert again["metrics"] == first["metrics"] and again["steps"] == 12
    assert steps == [] and {name: (exp / name).read_bytes() for name in checkpoints} == checkpoints


def count_training_steps(monkeypatch) -> list[int]:
    """A list that gets an item per training forward pass of any DownstreamModel from now on."""
    forward, steps = DownstreamModel.forward, []

    def counted(self, batch):
        if self.training:
            steps.append(1)
        return forward(self, batch)

    monkeypatch.setattr(DownstreamModel, "forward", counted)
    return steps


def test_continuing_with_more_steps_trains_as_a_straight_run_would(fake_hub, tone_corpus, tmp_path, capsys):
    exp, straight = tmp_path / "exp", tmp_path / "straight"
    assert train(tone_corpus, exp) == 0
    finished = weights(exp)
    assert cli.main(["-m", "train", "-e", str(exp)]) == 1  # -e means train: at step 12 of 12 there is nothing to
    assert "is at step 12 and runner.total_steps is 12: nothing to train" in capsys.readouterr().err
    assert cli.main(["-m", "train", "-e", str(exp), "-o", "runner.total_steps=20"]) == 0
    assert latest(exp).name == "states-20.ckpt" and load_checkpoint_file(latest(exp))["state"]["step"] == 20
    assert any(not torch.equal(finished["expert"][k], weights(exp)["expert"][k]) for k in finished["expert"])
    assert train(tone_corpus, straight, "-o", "runner.total_steps=20") == 0
    assert_same(weights(straight), weights(exp))


def subprocess_argv(tone_corpus, expdir, upstream="fake_a") -> list[str]:
    """The downstream command in its own process, upstream names answered by the test's FakeUpstream."""
    return [
        str(Path(__file__).parent / "fake_upstream_cli.py"),
        *["-m", "train", "-u", upstream, "-d", "phone_1hidden", "--expdir", str(expdir), "--data", str(tone_corpus)],
        *["-o", STEPS, "--threads", "1", "--no-progress"],
    ]


@pytest.mark.parametrize("second_upstream", ["fake_a", "fake_b"], ids=["same command", "another upstream"])
def test_two_processes_one_folder_one_trains_the_other_is_refused_at_once(tone_corpus, tmp_path, second_upstream):
    """Case 2 of issue 19: the same command twice trained twice into one folder; another one was refused
    as "files not made by an aalbert run"."""
    exp, solo = tmp_path / "exp", tmp_path / "solo"
    with frozen_holder(subprocess_argv(tone_corpus, exp), exp) as first:
        second = run_process(subprocess_argv(tone_corpus, exp, second_upstream))
    _, first_err = first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 0, first_err
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert "in use by another aalbert run" in second.stderr and f"pid {first.pid} " in second.stderr
    assert run_process(subprocess_argv(tone_corpus, solo)).returncode == 0
    assert sorted(p.name for p in exp.iterdir()) == sorted(p.name for p in solo.iterdir())
    assert len(list((exp / "tb").glob("events.out.tfevents.*"))) == 1  # one writer's log
    assert_same(weights(exp), weights(solo))
    assert (
        json.loads((exp / "results.json").read_text())["metrics"]
        == (json.loads((solo / "results.json").read_text())["metrics"])
    )


def stopped(pid: int) -> bool:
    """The process is stopped (SIGSTOP): its state in /proc is T."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "T"


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_a_start_stopped_when_the_split_files_appear_reruns(tone_corpus, tmp_path, stop):
    """Case 3 of issue 19: stopped right after splits/test.txt appeared, the same command was then refused."""
    exp, solo = tmp_path / "exp", tmp_path / "solo"
    script, *args = subprocess_argv(tone_corpus, exp)
    first = start_process([script, "--stop-after-splits", *args])
    freeze_when(first, lambda: stopped(first.pid))  # it stops itself once the split files are written
    assert (exp / "splits" / "test.txt").is_file() and not (exp / "results.json").exists()
    os.kill(first.pid, stop)
    os.kill(first.pid, signal.SIGCONT)
    first.communicate(timeout=TIMEOUT_S)
    assert first.returncode != 0
    again = run_process(subprocess_argv(tone_corpus, exp))
    assert again.returncode == 0, again.stderr
    assert run_process(subprocess_argv(tone_corpus, solo)).returncode == 0
    assert_same(weights(exp), weights(solo))


def test_a_record_write_killed_midway_is_no_obstacle(fake_hub, tone_corpus, tmp_path):
    """Case 3 of issue 19: a kill during the record's own atomic write leaves its temp file, which was then
    taken for "a file not made by an aalbert run"."""
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / f".experiment.json.{dead_pid()}.k2x9f1.tmp").write_text('{"kind": "downstr')
    assert train(tone_corpus, exp) == 0
    assert sorted(p.name for p in exp.iterdir() if p.name.endswith(".tmp")) == []


def test_overwrite_moves_the_old_run_aside(fake_hub, tone_corpus, tmp_path):
    exp = tmp_path / "exp"
    assert train(tone_corpus, exp) == 0
    assert train(tone_corpus, exp, "--overwrite", upstream="fake_b") == 0
    old = [p for p in tmp_path.iterdir() if p.name.startswith("exp.old-")]
    assert len(old) == 1 and json.loads((old[0] / "results.json").read_text())["upstream"]["name"] == "fake_a"
    assert json.loads((exp / "results.json").read_text())["upstream"]["name"] == "fake_b"


def test_names_cannot_escape_the_results_folder(fake_hub, tone_corpus, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("../x", "/tmp/x", "a/../../x"):
        assert cli.main(["-u", "fake", "-d", "phone_linear", "-n", name, "--data", str(tone_corpus)]) == 1
        assert "must be a folder name inside result/downstream" in capsys.readouterr().err


def test_interrupt_then_resume_equals_a_straight_run(fake_hub, tone_corpus, tmp_path, monkeypatch, capsys):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert train(tone_corpus, straight) == 0
    forward = DownstreamModel.forward
    calls = {"n": 0}

    def interrupted_at_step_7(self, batch):
        if self.training:
            calls["n"] += 1
            if calls["n"] == 7:
                raise KeyboardInterrupt
        return forward(self, batch)

    monkeypatch.setattr(DownstreamModel, "forward", interrupted_at_step_7)
    assert train(tone_corpus, stopped) == 130
    err = capsys.readouterr().err
    assert "interrupted at step 6" in err and f"-e {stopped}" in err and "Traceback" not in err
    assert latest(stopped).name == "states-6.ckpt" and load_checkpoint_file(latest(stopped))["state"]["step"] == 6
    monkeypatch.setattr(DownstreamModel, "forward", forward)
    assert cli.main(["-m", "train", "-e", str(stopped)]) == 0
    assert_same(weights(straight), weights(stopped))
    assert_same(weights(straight, "dev-best.ckpt"), weights(stopped, "dev-best.ckpt"))
    a, b = (json.loads((d / "results.json").read_text()) for d in (straight, stopped))
    assert a["metrics"] == b["metrics"]


def test_last_checkpoint_by_wall_time(fake_hub, tone_corpus, tmp_path, monkeypatch):
    exp = tmp_path / "exp"
    saved = []
    import aalbert.downstream.training as training

    real = training.torch_save_atomic
    monkeypatch.setattr(
        training, "torch_save_atomic", lambda ckpt, path: (saved.append(ckpt["state"]["step"]), real(ckpt, path))
    )
    assert train(tone_corpus, exp, "-o", "runner.save_minutes=1e-9") == 0
    # every step writes states-STEP.ckpt (plus dev-best.ckpt at improving evaluations)
    assert sorted(set(saved)) == list(range(1, 13))


def test_damaged_last_checkpoint_is_one_line(fake_hub, tone_corpus, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tone_corpus, exp) == 0
    (exp / "states-12.ckpt").write_bytes(b"")
    assert cli.main(["-m", "train", "-e", str(exp), "-o", "runner.total_steps=16"]) == 1
    err = capsys.readouterr().err
    assert "states-12.ckpt: is empty" in err and "Traceback" not in err


def test_a_start_that_fails_before_producing_anything_leaves_the_folder_free(fake_hub, tone_corpus, tmp_path, capsys):
    exp = tmp_path / "exp"
    assert train(tmp_path / "no_such_corpus", exp) == 1  # fails after claiming the folder, before any output
    assert "no_such_corpus" in capsys.readouterr().err
    assert [p.name for p in exp.iterdir() if p.name != ".aalbert.lock"] == []  # the record was taken back
    assert train(tone_corpus, exp, upstream="fake_b") == 0  # so another run may take it, unrefused
