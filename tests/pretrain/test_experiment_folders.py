"""Pretraining experiment folders under misuse and faults: nothing lost, nothing silently reused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_cli import write_recipe

from aalbert.pretrain import checkpoints
from aalbert.pretrain.cli import main


def run(*argv: str) -> int:
    return main([*argv, "--no-progress"])


@pytest.fixture
def trained(tmp_path, corpus_dir):
    """An experiment of 4 steps with checkpoints at 2 and 4 (keep 2)."""
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    exp = tmp_path / "exp"
    assert run("-u", "aalbert", "-c", str(recipe), "--expdir", str(exp), "-o", "log.keep_last=2") == 0
    assert [p.name for p in checkpoints.list_checkpoints(exp)] == ["states-2.ckpt", "states-4.ckpt"]
    return recipe, exp


def test_another_run_into_the_folder_is_refused_and_changes_nothing(trained, capsys):
    recipe, exp = trained
    before = {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()}
    assert run("-u", "mockingjay", "-c", str(recipe), "--expdir", str(exp), "-o", "optim.total_steps=1") == 1
    err = capsys.readouterr().err
    assert "holds another pretrain run" in err and "num_hidden_groups" in err and "total_steps" in err
    assert "--overwrite" in err and "-e" in err and "Traceback" not in err
    assert {p.name: p.read_bytes() for p in exp.iterdir() if p.is_file()} == before


def test_the_same_command_again_continues(trained, capsys):
    recipe, exp = trained
    (exp / "states-4.ckpt").unlink()  # as if interrupted after step 2
    assert run("-u", "aalbert", "-c", str(recipe), "--expdir", str(exp), "-o", "log.keep_last=2") == 0
    out = capsys.readouterr().out
    assert "resuming from states-2.ckpt" in out and "step 4: checkpoint" in out
    assert (exp / "states-4.ckpt").is_file()


def test_overwrite_moves_the_old_run_aside(trained, capsys):
    recipe, exp = trained
    assert (
        run("-u", "mockingjay", "-c", str(recipe), "--expdir", str(exp), "--overwrite", "-o", "optim.total_steps=2")
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
    assert run("-e", str(exp), "-o", "optim.total_steps=6") == 0
    assert (exp / "states-6.ckpt").is_file()
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
    assert run("-e", str(exp), "-o", "optim.total_steps=6") == 0
    assert not list(exp.glob("*.tmp")) and not list(exp.glob(".*.tmp"))


def test_a_flipped_bit_in_the_resumed_checkpoint_is_an_error(trained, capsys):
    recipe, exp = trained
    path = exp / "states-4.ckpt"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    assert run("-e", str(exp), "-o", "optim.total_steps=6") == 1
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
    assert run("-e", str(exp), "-o", "optim.total_steps=5,log.keep_last=1") == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    printed = Path(last.split("checkpoint ", 1)[1])
    assert printed.is_file() and printed.name == "states-5.ckpt"
