"""Train/dev/test splits: from split files, or a deterministic 8:1:1 split per speaker.

Splitting *per speaker* keeps every speaker in every split, which speaker identification
needs and which does no harm to phone tasks. Everything is seeded and independent of file
system order, so a run is reproducible on any machine.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Iterable, Mapping

SPLITS = ("train", "dev", "test")


class SplitError(ValueError):
    """A split file that is missing or names unknown utterances."""


def read_split_files(folder: str | Path) -> dict[str, list[str]]:
    """``folder/{train,dev,test}.txt`` (one utterance id per line; extra columns ignored)."""
    folder = Path(folder)
    splits = {}
    for split in SPLITS:
        candidates = [folder / f"{split}.txt", folder / f"{split}_split.txt"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SplitError(f"split folder {folder} has no {split}.txt")
        ids = [line.split()[0] for line in path.read_text(encoding="utf-8").splitlines()
               if line.strip() and not line.startswith("#")]
        # a list of file paths works too: the utterance id is the file's stem
        splits[split] = [Path(i).stem if "/" in i or i.endswith((".flac", ".wav")) else i for i in ids]
    return splits


def split_per_speaker(speaker_of: Mapping[str, str], seed: int,
                      fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)) -> dict[str, list[str]]:
    """Deterministic split of each speaker's utterances by ``fractions``.

    A speaker with at least 3 utterances gets at least one in dev and one in test; with fewer,
    all go to train.
    """
    by_speaker: dict[str, list[str]] = {}
    for uttid, speaker in speaker_of.items():
        by_speaker.setdefault(speaker, []).append(uttid)
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for speaker in sorted(by_speaker):
        ids = sorted(by_speaker[speaker])
        # a per-speaker generator: adding a speaker does not reshuffle the others
        random.Random(f"{seed}:{speaker}").shuffle(ids)
        n = len(ids)
        n_dev = n_test = 0
        if n >= 3:
            n_dev = max(1, round(n * fractions[1]))
            n_test = max(1, round(n * fractions[2]))
        out["dev"] += ids[:n_dev]
        out["test"] += ids[n_dev:n_dev + n_test]
        out["train"] += ids[n_dev + n_test:]
    return {k: sorted(v) for k, v in out.items()}


def label_fraction(ids: Iterable[str], fraction: float, seed: int) -> list[str]:
    """A deterministic ``fraction`` of ``ids`` (at least one), for low-resource curves.

    Smaller fractions are subsets of larger ones under the same seed (one shuffle, then a
    prefix), so points on a curve add data rather than swap it.
    """
    if not 0.001 <= fraction <= 1.0:
        raise ValueError(f"label fraction must be in [0.001, 1.0], got {fraction}")
    ids = sorted(ids)
    if fraction == 1.0 or not ids:
        return ids
    random.Random(f"fraction:{seed}").shuffle(ids)
    keep = max(1, round(len(ids) * fraction))
    return sorted(ids[:keep])
