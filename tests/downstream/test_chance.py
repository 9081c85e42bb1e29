"""The chance level is the training split's majority class, scored on each split's own labels."""

from pathlib import Path

import pytest

from aalbert.downstream.chance import chance_levels
from aalbert.downstream.data import Corpus, Utterance


def utt(uttid: str, speaker: str, phones: list[int] | None = None) -> Utterance:
    return Utterance(uttid, Path(f"/nowhere/{uttid}.flac"), speaker, phones=phones)


@pytest.fixture
def corpus() -> Corpus:
    # train: phone 0 ("sil") on 5 of 8 frames; dev: 1 of 4; test: 3 of 4
    return Corpus(
        splits={
            "train": [utt("a1", "a", [0, 0, 1, 2]), utt("b1", "b", [0, 0, 0, 1]), utt("a2", "a", [])],
            "dev": [utt("a3", "a", [1, 1, 0, 2])],
            "test": [utt("b2", "b", [0, 0, 0, 2])],
        },
        speakers=["a", "b"],
        phone_names=["sil", "aa", "b"],
    )


def test_frame_phones_count_frames_and_name_the_class(corpus):
    chance = chance_levels(corpus, "frame_phones")
    assert chance["class"] == "sil" and chance["unit"] == "10 ms frame"
    assert chance["train"] == pytest.approx(5 / 8)
    assert chance["dev"] == pytest.approx(1 / 4) and chance["test"] == pytest.approx(3 / 4)
    assert chance["classes"] == 3 and chance["uniform"] == pytest.approx(1 / 3)


def test_speakers_count_utterances_and_ties_go_to_the_first_name(corpus):
    corpus.splits["train"].append(utt("b3", "b"))  # a: 2 utterances, b: 2 -> "a"
    chance = chance_levels(corpus, "speaker")
    assert chance["class"] == "a" and chance["unit"] == "utterance"
    assert chance["dev"] == 1.0 and chance["test"] == 0.0 and chance["uniform"] == 0.5


def test_metadata_labels_and_the_labels_without_a_baseline(corpus):
    corpus.speaker_info = {"a": {"gender": "f"}, "b": {"gender": "m"}}
    chance = chance_levels(corpus, "speaker.gender")
    assert chance["class"] == "f" and chance["train"] == pytest.approx(2 / 3) and chance["test"] == 0.0
    assert chance_levels(corpus, "phone_sequence") is None  # scored by error rate: no majority baseline
    corpus.splits["train"] = []
    assert chance_levels(corpus, "speaker") is None
