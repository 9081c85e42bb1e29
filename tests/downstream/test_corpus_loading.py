import shutil

import pytest
from tone_corpus import make_tone_corpus

from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.data.splits import SplitError


@pytest.fixture
def small(tmp_path):
    return make_tone_corpus(tmp_path / "c", speakers=2, utterances=5, unaligned=("101-7-0001",))


def test_default_split_speakers_and_skip_count(small):
    corpus = load_corpus(DataConfig(root=str(small)), TaskData("frames"))
    assert corpus.speakers == ["100", "101"]
    assert corpus.phone_names == ["sil", "aa", "iy", "s", "m"] and corpus.silence_ids == {0}
    assert sum(corpus.skipped.values()) == 1
    ids = {u.uttid for part in corpus.splits.values() for u in part}
    assert "101-7-0001" not in ids and len(ids) == 9
    # a task without phones keeps the unaligned utterance
    assert sum(len(p) for p in load_corpus(DataConfig(root=str(small)), TaskData()).splits.values()) == 10


def test_split_files_are_used_and_checked(small):
    splits = small / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("100-7-0000\n100-7-0001\n101-7-0000\n")
    (splits / "dev.txt").write_text("100-7-0002\n")
    (splits / "test.txt").write_text("101-7-0002\n")
    corpus = load_corpus(DataConfig(root=str(small)), TaskData())
    assert [u.uttid for u in corpus.splits["dev"]] == ["100-7-0002"]
    assert len(corpus.splits["train"]) == 3
    (splits / "test.txt").write_text("999-1-0000\n")
    with pytest.raises(SplitError, match="999-1-0000"):
        load_corpus(DataConfig(root=str(small)), TaskData())


def test_phone_task_without_alignment_says_what_to_set(small):
    shutil.rmtree(small / "alignment")
    with pytest.raises(FileNotFoundError, match="data.alignment"):
        load_corpus(DataConfig(root=str(small)), TaskData("frames"))


def test_label_fraction_only_shrinks_train(small):
    full = load_corpus(DataConfig(root=str(small)), TaskData())
    low = load_corpus(DataConfig(root=str(small), label_fraction=0.001), TaskData())
    assert len(low.splits["train"]) == 1 and len(full.splits["train"]) > 1
    assert [u.uttid for u in low.splits["test"]] == [u.uttid for u in full.splits["test"]]


def test_subsets_must_exist(small):
    with pytest.raises(FileNotFoundError, match="subset dev-clean not found.*train-tiny"):
        load_corpus(DataConfig(root=str(small), subsets=["dev-clean"]), TaskData())
