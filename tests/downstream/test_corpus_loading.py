import json
import shutil

import numpy as np
import pytest
import soundfile
from downstream_fakes import FakeUpstream
from tone_corpus import make_tone_corpus

import aalbert.downstream.runner as runner_module
from aalbert.downstream import cli
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.data.splits import SplitError
from aalbert.errors import MissingFileError


@pytest.fixture
def small(tmp_path):
    return make_tone_corpus(tmp_path / "c", speakers=2, utterances=5, unaligned=("101-7-0001",))


def test_default_split_speakers_and_skip_count(small):
    corpus = load_corpus(DataConfig(roots=[str(small)]), TaskData("frames"))
    assert corpus.speakers == ["100", "101"]
    assert corpus.phone_names == ["sil", "aa", "iy", "s", "m"] and corpus.silence_ids == {0}
    assert sum(corpus.skipped.values()) == 1
    ids = {u.uttid for part in corpus.splits.values() for u in part}
    assert "101-7-0001" not in ids and len(ids) == 9
    # a task without phones keeps the unaligned utterance
    assert sum(len(p) for p in load_corpus(DataConfig(roots=[str(small)]), TaskData()).splits.values()) == 10


def test_split_files_are_used_and_checked(small):
    splits = small / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("100-7-0000\n100-7-0001\n101-7-0000\n")
    (splits / "dev.txt").write_text("100-7-0002\n")
    (splits / "test.txt").write_text("101-7-0002\n")
    corpus = load_corpus(DataConfig(roots=[str(small)]), TaskData())
    assert [u.uttid for u in corpus.splits["dev"]] == ["100-7-0002"]
    assert len(corpus.splits["train"]) == 3
    (splits / "test.txt").write_text("999-1-0000\n")
    with pytest.raises(SplitError, match="999-1-0000"):
        load_corpus(DataConfig(roots=[str(small)]), TaskData())


def test_phone_task_without_alignment_says_what_to_set(small):
    shutil.rmtree(small / "alignment")
    with pytest.raises(MissingFileError, match="data.alignment"):
        load_corpus(DataConfig(roots=[str(small)]), TaskData("frames"))


def test_label_fraction_only_shrinks_train(small):
    full = load_corpus(DataConfig(roots=[str(small)]), TaskData())
    low = load_corpus(DataConfig(roots=[str(small)], label_fraction=0.001), TaskData())
    assert len(low.splits["train"]) == 1 and len(full.splits["train"]) > 1
    assert [u.uttid for u in low.splits["test"]] == [u.uttid for u in full.splits["test"]]


def test_subsets_must_exist(small):
    with pytest.raises(MissingFileError, match="subset dev-clean not found.*train-tiny"):
        load_corpus(DataConfig(roots=[str(small)], subsets=["dev-clean"]), TaskData())


def _bad_test_split(root):
    """Split lists (6 train, 2 dev, 2 test per speaker) whose TEST split holds a FLAC cut short
    and a float WAV with a NaN sample."""
    folder = root / "train-tiny"
    ids = sorted(p.stem for p in folder.rglob("*.flac"))
    (root / "splits").mkdir()
    for split, wanted in (("train", range(6)), ("dev", (6, 7)), ("test", (8, 9))):
        (root / "splits" / f"{split}.txt").write_text("\n".join(i for i in ids if int(i[-4:]) in wanted) + "\n")
    cut = folder / "100" / "7" / "100-7-0008.flac"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    flac = folder / "101" / "7" / "101-7-0009.flac"
    wave, rate = soundfile.read(flac, dtype="float32")
    wave[500] = np.nan
    flac.unlink()
    nan = flac.with_suffix(".wav")
    soundfile.write(nan, wave, rate, subtype="FLOAT")
    return cut, nan


def _train_argv(root, expdir, *overrides):
    argv = ["-m", "train", "-u", "fake", "-d", "speaker_utterance", "--expdir", str(expdir), "--data", str(root)]
    argv += ["-o", "runner.total_steps=4,,runner.eval_step=2,,optimizer.lr=0.01"]
    for override in overrides:
        argv += ["-o", override]
    return argv


def test_bad_test_audio_stops_the_run_before_the_first_step(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: FakeUpstream())
    root = make_tone_corpus(tmp_path / "c", speakers=2, utterances=10)
    cut, nan = _bad_test_split(root)
    expdir = tmp_path / "exp"
    assert cli.main(_train_argv(root, expdir)) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "nothing was trained" in err
    assert f"{cut}: truncated or corrupt" in err and f"{nan}: audio holds NaN" in err
    assert not list(expdir.rglob("*.ckpt")) and not (expdir / "results.json").exists()

    with pytest.warns(UserWarning, match="skipping"):
        res = cli.run(_train_argv(root, tmp_path / "exp2", "data.bad_audio=skip"))
    assert res["steps"] == 4 and res["data"]["utterances"]["test"] == 2
    saved = json.loads((tmp_path / "exp2" / "results.json").read_text())
    assert saved["data"]["bad_audio"]["count"] == 2
    assert sorted(f.split(": ")[0] for f in saved["data"]["bad_audio"]["files"]) == sorted([str(cut), str(nan)])


def test_a_corpus_without_bad_audio_records_none(small):
    corpus = load_corpus(DataConfig(roots=[str(small)]), TaskData())
    assert corpus.bad_audio == []
