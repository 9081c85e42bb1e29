"""The attention analysis samples its utterances across speakers, seeded, not the first N files."""

from collections import Counter
from pathlib import Path

from aalbert.analysis.utterance_sample import describe_sample, speaker_of, spread_over_speakers
from aalbert.corpus.utterance import Utterance


def corpus(speakers: int, each: int) -> list[Utterance]:
    # sorted as a LibriSpeech listing is: all of speaker 0 first
    return [
        Utterance(f"{s}-{i}", Path(f"/c/{s}/ch/{s}-{i}.flac"), str(s)) for s in range(speakers) for i in range(each)
    ]


def test_the_sample_takes_one_utterance_per_speaker_in_turn():
    utterances = corpus(speakers=5, each=4)
    picked = spread_over_speakers(utterances, 7, seed=1)
    per_speaker = Counter(u.speaker for u in picked)
    assert len(picked) == 7 and len(per_speaker) == 5 and max(per_speaker.values()) == 2
    assert len({u.uttid for u in picked}) == 7  # no utterance twice


def test_the_sample_is_the_seeds_whatever_the_listing_order():
    utterances = corpus(speakers=6, each=3)
    first = [u.uttid for u in spread_over_speakers(utterances, 4, seed=7)]
    assert first == [u.uttid for u in spread_over_speakers(list(reversed(utterances)), 4, seed=7)]
    assert first != [u.uttid for u in spread_over_speakers(utterances, 4, seed=8)]
    assert first != [u.uttid for u in utterances[:4]]  # not the sorted head (one speaker)
    assert len(spread_over_speakers(utterances, 100, seed=7)) == 18  # asking for more gives all


def test_plain_files_are_grouped_by_their_folder():
    plain = Utterance("x", Path("/audio/spk3/x.flac"), "")
    assert speaker_of(plain) == "spk3" and speaker_of(Path("/audio/spk4/y.wav")) == "spk4"
    assert describe_sample(["a", "b", "a"], 5) == {
        "rule": "seeded round robin over speakers",
        "seed": 5,
        "utterances": 3,
        "speakers": 2,
        "file_speakers": ["a", "b", "a"],
    }
