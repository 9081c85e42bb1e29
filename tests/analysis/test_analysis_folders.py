"""Probing and attention own their output folders as downstream does: a default name that says what
ran, another run into a folder refused (nothing replaced), --overwrite moves the old one aside, and
a folder in use by another process refused at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aalbert.analysis import attention, probing
from aalbert.folder_lock import FolderLock


@pytest.fixture
def in_result_folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def probe(corpus: Path, *extra: str, ckpt: Path, task: str = "phone") -> int:
    argv = ["-u", "aalbert_local", "-k", str(ckpt), "--task", task, "--probes", "linear", "--layers", "0,1"]
    return probing.main([*argv, "--data", str(corpus), "--epochs", "1", "--no-progress", *extra])


def rows(folder: Path) -> list:
    return json.loads((folder / probing.JSON_NAME).read_text())["rows"]


def test_probes_of_other_tasks_or_checkpoints_never_share_a_folder(
    probe_corpus, tiny_aalbert_ckpt, make_s3prl_checkpoint, in_result_folder
):
    other_ckpt = make_s3prl_checkpoint("other.pt", num_hidden_layers=3, num_hidden_groups=1, seed=1)
    assert probe(probe_corpus, ckpt=tiny_aalbert_ckpt) == 0
    phone = in_result_folder / "result" / "probe" / f"aalbert_local-{tiny_aalbert_ckpt.parent.name}-tiny_aalbert-phone"
    first = rows(phone)
    assert len(first) == 2
    assert probe(probe_corpus, ckpt=other_ckpt, task="speaker") == 0
    speaker = in_result_folder / "result" / "probe" / f"aalbert_local-{other_ckpt.parent.name}-other-speaker"
    assert len(rows(speaker)) == 2 and rows(phone) == first  # the first probe's rows are untouched


def test_another_probe_into_a_named_folder_is_refused_and_overwrite_moves_it_aside(
    probe_corpus, tiny_aalbert_ckpt, in_result_folder, capsys
):
    folder = in_result_folder / "result" / "probe" / "x"
    assert probe(probe_corpus, "-n", "x", ckpt=tiny_aalbert_ckpt) == 0
    before = (folder / probing.JSON_NAME).read_bytes()
    assert probe(probe_corpus, "-n", "x", ckpt=tiny_aalbert_ckpt, task="speaker") == 1
    err = capsys.readouterr().err
    assert "holds another probe run" in err and "task: 'phone' -> 'speaker'" in err and "--overwrite" in err
    assert (folder / probing.JSON_NAME).read_bytes() == before
    assert probe(probe_corpus, "-n", "x", ckpt=tiny_aalbert_ckpt) == 0  # the same command again: its own folder
    assert probe(probe_corpus, "-n", "x", "--overwrite", ckpt=tiny_aalbert_ckpt, task="speaker") == 0
    [aside] = [p for p in folder.parent.iterdir() if p.name.startswith("x.old-")]
    assert (aside / probing.JSON_NAME).read_bytes() == before
    assert json.loads((folder / probing.JSON_NAME).read_text())["task"] == "speaker"


def test_a_probe_folder_in_use_is_refused_at_once(probe_corpus, tiny_aalbert_ckpt, in_result_folder, capsys):
    with FolderLock(in_result_folder / "result" / "probe" / "x"):
        assert probe(probe_corpus, "-n", "x", ckpt=tiny_aalbert_ckpt) == 1
    assert "in use by another aalbert run" in capsys.readouterr().err
    assert not (in_result_folder / "result" / "probe" / "x" / probing.JSON_NAME).exists()


def attend(audio: Path, ckpt: Path, *extra: str) -> int:
    argv = ["-u", "aalbert_local", "-k", str(ckpt), "--data", str(audio), "--num-utterances", "2", "--no-progress"]
    return attention.main([*argv, *extra])


def test_attention_owns_its_folder(audio_dir, tiny_aalbert_ckpt, in_result_folder, capsys):
    assert attend(audio_dir, tiny_aalbert_ckpt) == 0
    folder = in_result_folder / "result" / "attention" / f"aalbert_local-{tiny_aalbert_ckpt.parent.name}-tiny_aalbert"
    before = (folder / attention.JSON_NAME).read_bytes()
    assert attend(audio_dir, tiny_aalbert_ckpt, "-p", str(folder), "--num-utterances", "3") == 1
    assert "holds another attention run" in capsys.readouterr().err
    assert (folder / attention.JSON_NAME).read_bytes() == before
    with FolderLock(folder):
        assert attend(audio_dir, tiny_aalbert_ckpt, "-p", str(folder)) == 1
    assert "in use by another aalbert run" in capsys.readouterr().err
    assert attend(audio_dir, tiny_aalbert_ckpt, "-p", str(folder), "--num-utterances", "3", "--overwrite") == 0
    assert json.loads((folder / attention.JSON_NAME).read_text())["utterances"] == 3
