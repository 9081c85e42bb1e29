"""Train/dev/test splits: from split files, or a seeded default that follows the task.

* ``per_speaker`` (speaker tasks, as in the paper): each speaker's utterances are split 8:1:1,
  so every speaker is in every split; a speaker classifier can only be tested on voices it
  was trained on.
* ``disjoint_speakers`` (phone tasks): speakers are split 8:1:1, so phones are tested on
  unseen voices. A corpus's own test set (TIMIT's TEST folder) is kept as the test split and
  dev speakers are drawn from the rest.

Everything is seeded and independent of file system order, so a run is reproducible on any
machine; the split actually used is written to the experiment folder as split files.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Literal

from aalbert.errors import AalbertError

SPLITS = ("train", "dev", "test")
SplitPolicy = Literal["per_speaker", "disjoint_speakers"]


class SplitError(AalbertError):
    """A split file that is missing or names unknown utterances."""


def read_split_files(folder: str | Path, known: Collection[str] = ()) -> dict[str, list[str]]:
    """``folder/{train,dev,test}.txt`` (one utterance id per line; extra columns ignored).

    ``known``: the corpus's utterance ids. A line that is one of them is that id, even with a
    space or a ``/`` in it (a Lhotse id, a file name); otherwise the first column is the id, and a
    file path in it stands for its stem."""
    folder = Path(folder)
    splits = {}
    for split in SPLITS:
        candidates = [folder / f"{split}.txt", folder / f"{split}_split.txt"]
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            raise SplitError(f"split folder {folder} has no {split}.txt")
        splits[split] = _ids_of(path.read_text(encoding="utf-8"), known)
    return splits


def _ids_of(text: str, known: Collection[str]) -> list[str]:
    ids = []
    for line in text.splitlines():
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        first = entry.split()[0]
        if entry in known or first in known:
            ids.append(entry if entry in known else first)
        else:  # a list of file paths works too: the utterance id is the file's stem
            ids.append(Path(first).stem if "/" in first or first.endswith((".flac", ".wav")) else first)
    return ids


def split_per_speaker(
    speaker_of: Mapping[str, str], seed: int, fractions: tuple[float, float, float] = (0.8, 0.1, 0.1)
) -> dict[str, list[str]]:
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
        out["test"] += ids[n_dev : n_dev + n_test]
        out["train"] += ids[n_dev + n_test :]
    return {k: sorted(v) for k, v in out.items()}


def split_disjoint_speakers(
    speaker_of: Mapping[str, str],
    seed: int,
    partition: Mapping[str, str] | None = None,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> dict[str, list[str]]:
    """Speakers split by ``fractions``; no speaker is in two splits.

    When ``partition`` puts utterances in a test set (TIMIT's TEST folder) that set is the test
    split, and a ``fractions[1]`` share of the other speakers makes dev.
    """
    partition = partition or {}
    speakers = set(speaker_of.values())
    test = {speaker_of[u] for u in speaker_of if partition.get(u) == "test"}
    if test == speakers:  # a copy holding only the test set (TIMIT's TEST folder) is split like any corpus
        test = set()
    rest = sorted(speakers - test)
    random.Random(f"disjoint:{seed}").shuffle(rest)
    if test:
        if len(rest) < 2:
            raise SplitError(
                f"a speaker-disjoint split with the corpus's own test set needs at least 2 other "
                f"speakers (train and dev), the corpus has {len(rest)}"
            )
        dev = set(rest[: max(1, round(len(rest) * fractions[1]))])
    else:
        if len(rest) < 3:
            raise SplitError(
                f"a speaker-disjoint split needs at least 3 speakers, the corpus has {len(rest)}: give "
                "split lists (data.splits) or split each speaker's utterances "
                "(data.split_policy=per_speaker)"
            )
        n_dev = max(1, round(len(rest) * fractions[1]))
        n_test = max(1, round(len(rest) * fractions[2]))
        dev, test = set(rest[:n_dev]), set(rest[n_dev : n_dev + n_test])
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    for uttid, speaker in speaker_of.items():
        out["dev" if speaker in dev else "test" if speaker in test else "train"].append(uttid)
    return {k: sorted(v) for k, v in out.items()}


def check_speaker_coverage(split_ids: Mapping[str, list[str]], speaker_of: Mapping[str, str]) -> None:
    """Speaker identification: every dev/test speaker must be a class seen in training."""
    per_speaker: dict[str, int] = {}
    for speaker in speaker_of.values():
        per_speaker[speaker] = per_speaker.get(speaker, 0) + 1
    few = sum(1 for n in per_speaker.values() if n < 3)
    for split in ("dev", "test"):
        if not split_ids[split]:
            why = (
                f" {few} of the {len(per_speaker)} speakers have fewer than 3 utterances (a speaker needs one "
                "each for train, dev and test), so all their utterances went to train"
                if few
                else ""
            )
            raise SplitError(
                f"speaker identification: the {split} split is empty.{why} Use a corpus with several "
                "utterances per speaker, or give split lists (data.splits)"
            )
    train = {speaker_of[u] for u in split_ids["train"]}
    for split in ("dev", "test"):
        unseen = sorted({speaker_of[u] for u in split_ids[split]} - train)
        if unseen:
            raise SplitError(
                f"speaker identification: {len(unseen)} speaker(s) of the {split} split never occur in "
                f"train (e.g. {', '.join(unseen[:5])}), so they can never be recognised; split each "
                "speaker's utterances (data.split_policy=per_speaker) or fix the split lists"
            )


def write_split_files(split_ids: Mapping[str, list[str]], folder: str | Path) -> Path:
    """``folder/{train,dev,test}.txt``: the split a run used, so it can be repeated exactly.

    Every id must read back as itself (:func:`read_split_files`): one that cannot be a line of its
    own (a line break, a leading ``#`` or space) is refused before anything is written."""
    from aalbert.atomic import write_text_atomic

    folder = Path(folder)
    known = {u for ids in split_ids.values() for u in ids}
    texts = {split: "".join(f"{u}\n" for u in split_ids[split]) for split in SPLITS}
    for split in SPLITS:
        if _ids_of(texts[split], known) != list(split_ids[split]):
            bad = [u for u in split_ids[split] if _ids_of(f"{u}\n", known) != [u]]
            raise SplitError(
                f"utterance id {bad[0]!r} cannot be written as a line of a split file ({len(bad)} such id(s)): "
                "an id must not hold a line break nor start or end with a space or start with #; "
                "rename it in the corpus"
            )
    for split in SPLITS:
        write_text_atomic(folder / f"{split}.txt", texts[split])
    return folder


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
