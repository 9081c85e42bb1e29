"""Pretraining experiment folders under misuse and faults: nothing lost, nothing silently reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from held_process import TIMEOUT_S, frozen_holder
from held_process import run as run_process
from test_cli import write_recipe

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.config_layers import load_config
from aalbert.pretrain import checkpoints
from aalbert.pretrain.cli import main
from aalbert.pretrain.config import PretrainConfig, set_upstream
from aalbert.pretrain.schedule import WarmupLinear
from aalbert.pretrain.trainer import Trainer


def run(*argv: str) -> int:
    return main([*argv, "--no-progress"])


def weights(path: Path) -> dict[str, torch.Tensor]:
    """The encoder and prediction head of a pretraining checkpoint."""
    ckpt = load_checkpoint_file(path)
    return {**{f"Transformer.{k}": v for k, v in ckpt["Transformer"].items()}, **ckpt["SpecHead"]}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def assert_trained(before: dict, after: dict) -> None:
    """Every weight matrix moved: the steps in between trained (a zero learning rate moves none)."""
    matrices = [k for k, v in before.items() if v.dim() == 2]
    assert matrices and all(not torch.equal(before[k], after[k]) for k in matrices)


@pytest.fixture
def trained(tmp_path, corpus_dir):
    """An experiment of 4 steps with checkpoints at 2 and 4 (keep 2)."""
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    exp = tmp_path / "exp"
    assert run("-u", "aalbert", "-c", str(recipe), "--expdir", str(exp), "-o", "runner.max_keep=2") == 0
    assert [p.name for p in checkpoints.list_checkpoints(exp)] == ["states-2.ckpt", "states-4.ckpt"]
    return recipe, exp


def test_another_run_into_the_folder_is_refused_and_changes_nothing(trained, capsys):
    recipe, exp = trained
    before = {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()}
    assert run("-u", "mockingjay", "-c", str(recipe), "--expdir", str(exp), "-o", "runner.total_steps=1") == 1
    err = capsys.readouterr().err
    assert "holds another pretrain run" in err and "num_hidden_groups" in err and "total_steps" in err
    assert "--overwrite" in err and "-e" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()} == before


def test_the_same_command_again_continues(trained, capsys):
    recipe, exp = trained
    straight = weights(exp / "states-4.ckpt")
    (exp / "states-4.ckpt").unlink()  # as if interrupted after step 2
    assert run("-u", "aalbert", "-c", str(recipe), "--expdir", str(exp), "-o", "runner.max_keep=2") == 0
    out = capsys.readouterr().out
    assert "resuming from states-2.ckpt" in out and "step 4: checkpoint" in out
    assert (exp / "states-4.ckpt").is_file()
    assert_same(weights(exp / "states-4.ckpt"), straight)  # continued from step 2, not started over or skipped


def test_overwrite_moves_the_old_run_aside(trained, capsys):
    recipe, exp = trained
    assert (
        run("-u", "mockingjay", "-c", str(recipe), "--expdir", str(exp), "--overwrite", "-o", "runner.total_steps=2")
        == 0
    )
    old = [p for p in exp.parent.iterdir() if p.name.startswith("exp.old-")]
    assert len(old) == 1 and (old[0] / "states-4.ckpt").is_file() and (old[0] / "states-2.ckpt").is_file()
    assert [p.name for p in checkpoints.list_checkpoints(exp)] == ["states-2.ckpt"]
    printed = capsys.readouterr().out
    assert printed.strip().splitlines()[-1].endswith(str(exp / "states-2.ckpt"))
    assert json.loads((exp / "experiment.json").read_text())["config"]["model"]["num_hidden_groups"] is None


def test_resume_may_add_steps_but_not_change_the_model(trained, tmp_path, capsys):
    recipe, exp = trained
    assert run("-e", str(exp), "-o", "runner.total_steps=6") == 0
    assert (exp / "states-6.ckpt").is_file()
    assert_trained(weights(exp / "states-4.ckpt"), weights(exp / "states-6.ckpt"))
    assert run("-e", str(exp), "-o", "model.hidden_size=64") == 1
    err = capsys.readouterr().err
    assert "model.hidden_size: 32 -> 64" in err and "a resume may only change" in err


def test_resume_of_an_unrecorded_folder_with_another_architecture_is_one_line(trained, capsys):
    recipe, exp = trained
    (exp / "experiment.json").unlink()  # made before records existed
    assert run("-e", str(exp), "-o", "model.intermediate_size=48") == 1
    err = capsys.readouterr().err
    assert "does not fit this run's model" in err and "states-4.ckpt" in err and "Traceback" not in err


def test_names_cannot_escape_the_results_folder(tmp_path, corpus_dir, monkeypatch, capsys):
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    monkeypatch.chdir(tmp_path)
    for name in ("../x", "/abs/x", "a/../../x"):
        assert run("-u", "aalbert", "-c", str(recipe), "-n", name) == 1
        assert "must be a folder name inside result/pretrain" in capsys.readouterr().err
    assert not (tmp_path / "x").exists() and not (tmp_path / "result").exists()


def test_killed_checkpoint_write_leaves_no_temp_file_after_restart(trained):
    recipe, exp = trained
    # a process killed (SIGKILL) in the middle of an atomic checkpoint write
    script = textwrap.dedent(f"""
        import os, signal
        from aalbert.atomic import torch_save_atomic
        class Die:
            def __reduce__(self):
                os.kill(os.getpid(), signal.SIGKILL)
        torch_save_atomic({{"weights": b"x" * 100000, "then": Die()}}, {str(exp / "states-6.ckpt")!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=exp)
    assert done.returncode == -9
    leftovers = list(exp.glob(".states-6.ckpt.*.tmp"))
    assert len(leftovers) == 1 and not (exp / "states-6.ckpt").exists()
    assert run("-e", str(exp), "-o", "runner.total_steps=6") == 0
    assert not list(exp.glob("*.tmp")) and not list(exp.glob(".*.tmp"))


def test_a_flipped_bit_in_the_resumed_checkpoint_is_an_error(trained, capsys):
    recipe, exp = trained
    path = exp / "states-4.ckpt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert run("-e", str(exp), "-o", "runner.total_steps=6") == 1
    err = capsys.readouterr().err
    assert "states-4.ckpt" in err and "corrupt" in err


def test_files_follow_the_umask(trained):
    recipe, exp = trained
    mask = os.umask(0)
    os.umask(mask)
    expected = 0o666 & ~mask
    for name in ("states-4.ckpt", "experiment.json"):
        assert (exp / name).stat().st_mode & 0o777 == expected, name


def test_pruning_spares_checkpoints_of_later_steps(tmp_path):
    exp = tmp_path / "e"
    exp.mkdir()
    for step in (2, 4, 10, 20):
        (exp / f"states-{step}.ckpt").write_bytes(b"x")
    assert [p.name for p in checkpoints.prune(exp, 1, newest=exp / "states-4.ckpt")] == ["states-2.ckpt"]
    assert sorted(p.name for p in exp.iterdir()) == ["states-10.ckpt", "states-20.ckpt", "states-4.ckpt"]


def test_path_in_result_is_the_printed_one(trained, capsys):
    recipe, exp = trained
    assert run("-e", str(exp), "-o", "runner.total_steps=5,runner.max_keep=1") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    printed = Path(last.split("checkpoint ", 1)[1])
    assert printed.is_file() and printed.name == "states-5.ckpt"


def test_continuing_a_finished_run_trains_on_the_replanned_schedule(trained):
    """Case 1 of issue 19: -e with more steps kept the old plan, so the learning rate was 0 and nothing moved."""
    recipe, exp = trained
    finished = weights(exp / "states-4.ckpt")
    cfg = set_upstream(load_config(PretrainConfig, recipe, ["runner.total_steps=8"]), "aalbert")
    history = Trainer(cfg, exp, resume=exp / "states-4.ckpt", progress=False).train()
    # documented (aalbert.pretrain.resume_state.replan_schedule): the schedule of a run planned for 8 steps,
    # with the warm-up steps of the original plan
    warmup = int(round(cfg.optimizer.warmup_proportion * 4))
    expected = [cfg.optimizer.lr * WarmupLinear(warmup, 8)(step) for step in range(4, 8)]
    assert [h.lr for h in history] == pytest.approx(expected) and min(expected) > 0
    assert_trained(finished, weights(exp / "states-8.ckpt"))


def test_continuing_needs_a_total_beyond_the_steps_taken(trained, capsys):
    recipe, exp = trained
    before = {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()}
    assert run("-e", str(exp)) == 1  # at step 4 of 4: nothing to train
    err = capsys.readouterr().err
    assert "is at step 4 and runner.total_steps is 4: nothing to train" in err and "runner.total_steps=8" in err
    assert run("-e", str(exp / "states-2.ckpt"), "-o", "runner.total_steps=3") == 1  # shorter than planned
    assert "planned for 4 steps" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file() and p.suffix == ".ckpt"} == {
        k: v for k, v in before.items() if k.endswith(".ckpt")
    }


def pretrain_argv(recipe: Path, exp: Path, *extra: str) -> list[str]:
    return ["-m", "aalbert", "pretrain", "-u", "aalbert", "-c", str(recipe), "--expdir", str(exp), "--threads", "1"]


def test_two_processes_one_folder_one_trains_the_other_is_refused_at_once(tmp_path, corpus_dir):
    """Case 2 of issue 19: the second resumed from a checkpoint the first then pruned (a traceback)."""
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    exp, solo = tmp_path / "exp", tmp_path / "solo"
    with frozen_holder([*pretrain_argv(recipe, exp), "--no-progress"], exp) as first:
        # the first is frozen while it holds the folder: the second must answer without waiting for it
        second = run_process([*pretrain_argv(recipe, exp), "--no-progress"])
    _, first_err = first.communicate(timeout=TIMEOUT_S)
    assert first.returncode == 0, first_err
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert "in use by another aalbert run" in second.stderr and f"pid {first.pid} " in second.stderr
    assert run_process([*pretrain_argv(recipe, solo), "--no-progress"]).returncode == 0
    assert sorted(p.name for p in exp.iterdir()) == sorted(p.name for p in solo.iterdir())
    assert len(list((exp / "log").glob("events.out.tfevents.*"))) == 1  # one writer's log
    assert_same(weights(exp / "states-4.ckpt"), weights(solo / "states-4.ckpt"))
