"""Which utterances an analysis looks at: a seeded sample spread over speakers.

The first N files in sorted order are usually one speaker (LibriSpeech sorts by speaker), so a
measurement over them describes that voice. Here the speakers are taken in a seeded order, one
utterance of each in turn (each speaker's utterances in a seeded order too), until N are taken:
N utterances from min(N, speakers) speakers, the same ones for the same seed and files.
Torch-free.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path

from aalbert.corpus.utterance import Utterance

RULE = "seeded round robin over speakers"


def speaker_of(item: Utterance | Path) -> str:
    """The speaker a corpus reader gave, else the folder holding the file (a LibriSpeech chapter, a
    per-speaker folder): plain audio files carry no speaker."""
    if isinstance(item, Utterance):
        return item.speaker or item.path.parent.name
    return Path(item).parent.name


def spread_over_speakers(utterances: Sequence[Utterance], count: int, seed: int) -> list[Utterance]:
    """``count`` utterances, one per speaker in turn, in a seeded order (see the module's docstring)."""
    rng = random.Random(seed)
    groups: dict[str, list[Utterance]] = {}
    for utt in utterances:
        groups.setdefault(speaker_of(utt), []).append(utt)
    speakers = sorted(groups)  # sorted before shuffling (speakers and their utterances): the draw
    # depends on the seed and the files, not on the order they were listed in
    rng.shuffle(speakers)
    for speaker in speakers:
        groups[speaker].sort(key=lambda u: (u.uttid, str(u.path), u.start))
        rng.shuffle(groups[speaker])
    picked: list[Utterance] = []
    for turn in range(max((len(g) for g in groups.values()), default=0)):
        for speaker in speakers:
            if turn < len(groups[speaker]):
                picked.append(groups[speaker][turn])
                if len(picked) == count:
                    return picked
    return picked


def describe_sample(file_speakers: Sequence[str], seed: int) -> dict:
    """What an analysis's JSON says of its sample: the rule, the seed, each file's speaker."""
    return {
        "rule": RULE,
        "seed": seed,
        "utterances": len(file_speakers),
        "speakers": len(set(file_speakers)),
        "file_speakers": list(file_speakers),
    }
