"""The default split follows the task; split lists win for every format; bad splits are refused."""

import numpy as np
import pytest
import soundfile
from corpus_layouts import write_kaldi
from downstream_fakes import FakeUpstream

from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.data.splits import SplitError, split_disjoint_speakers
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.registry import load_task
from aalbert.downstream.runner import Runner


def _speakers(corpus):
    return {s: {u.speaker for u in corpus.splits[s]} for s in ("train", "dev", "test")}


def test_task_decides_the_default_split(tone_corpus):
    phone = load_corpus(DataConfig(roots=[str(tone_corpus)]), load_task("phone_ctc").expert_class.task_data())
    s = _speakers(phone)
    assert all(len(v) == 1 for v in s.values()) and not s["train"] & (s["dev"] | s["test"])  # unseen voices
    speaker = load_corpus(DataConfig(roots=[str(tone_corpus)]), load_task("speaker_frame").expert_class.task_data())
    assert all(v == {"100", "101", "102"} for v in _speakers(speaker).values())  # every voice in train
    forced = load_corpus(
        DataConfig(roots=[str(tone_corpus)], split_policy="per_speaker"),
        load_task("phone_linear").expert_class.task_data(),
    )
    assert _speakers(forced)["test"] == {"100", "101", "102"}


def test_one_utterance_per_speaker_is_a_clear_split_error_for_speaker_tasks(tmp_path):
    for spk in range(5):
        folder = tmp_path / str(spk) / "1"
        folder.mkdir(parents=True)
        soundfile.write(folder / f"{spk}-1-0000.flac", np.zeros(1600, dtype=np.float32), 16000)
    with pytest.raises(SplitError, match="5 of the 5 speakers have fewer than 3 utterances"):
        load_corpus(DataConfig(roots=[str(tmp_path)]), TaskData(speaker_classes=True))
    # a phone-style (speaker-disjoint) split of the same corpus is possible
    assert load_corpus(DataConfig(roots=[str(tmp_path)]), TaskData(split_policy="disjoint_speakers")).splits["test"]


def test_split_lists_with_a_speaker_absent_from_training_are_refused(tone_corpus, tmp_path):
    splits = tmp_path / "splits"
    splits.mkdir()
    (splits / "train.txt").write_text("100-7-0000\n100-7-0001\n101-7-0000\n")
    (splits / "dev.txt").write_text("100-7-0002\n")
    (splits / "test.txt").write_text("102-7-0002\n")
    with pytest.raises(SplitError, match=r"test split never occur in train \(e.g. 102\)"):
        load_corpus(DataConfig(roots=[str(tone_corpus)], splits=str(splits)), TaskData(speaker_classes=True))
    # the same lists are fine for a phone task, and they are honoured by the Kaldi reader too
    kaldi = write_kaldi(tone_corpus, tmp_path / "kaldi")
    corpus = load_corpus(DataConfig(format="kaldi", roots=[str(kaldi)], splits=str(splits)), TaskData())
    assert [u.uttid for u in corpus.splits["test"]] == ["102-7-0002"] and len(corpus.splits["train"]) == 3


def test_disjoint_split_needs_three_speakers():
    with pytest.raises(SplitError, match="at least 3 speakers"):
        split_disjoint_speakers({"a1": "a", "b1": "b"}, seed=0)


def test_split_is_written_to_the_experiment_and_reused(tone_corpus, tmp_path):
    expdir = tmp_path / "exp"
    cfg = build_config(
        "speaker_utterance",
        overrides=[f"data.roots=[{tone_corpus}]", "runner.total_steps=2", "runner.eval_step=2"],
        upstream="fake",
    )
    Runner(cfg, expdir, upstream=FakeUpstream()).train()
    written = {s: (expdir / "splits" / f"{s}.txt").read_text().split() for s in ("train", "dev", "test")}
    assert sorted(sum(written.values(), [])) == sorted(p.stem for p in tone_corpus.rglob("*.flac"))
    # edit the stored split: a resumed run must use it, not recompute the default
    (expdir / "splits" / "dev.txt").write_text(written["dev"][0] + "\n")
    from aalbert.downstream.experiment_config import load_experiment_config

    again = Runner(load_experiment_config(expdir), expdir, upstream=FakeUpstream())
    assert [u.uttid for u in again.corpus.splits["dev"]] == [written["dev"][0]]
