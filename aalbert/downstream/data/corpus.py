"""One place that turns a ``DataConfig`` into train/dev/test utterance lists with labels.

The corpus is read by the reader ``data.format`` names (:mod:`aalbert.corpus.registry`),
labels are attached (:mod:`.attach`), every problem found is reported at once, and the
split follows the task unless split lists are given (:mod:`.splits`). Utterances without the
labels a task needs are skipped, logged and counted per split (results.json reports them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from aalbert.corpus.problems import Problems
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.utterance import CorpusListing, Utterance

from ..config import DataConfig
from .attach import attach_frames, attach_sequences, resolve, silence_ids
from .splits import (SPLITS, SplitError, SplitPolicy, check_speaker_coverage, label_fraction, read_split_files,
                     split_disjoint_speakers, split_per_speaker)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskData:
    """What a task needs from a corpus."""
    phones: Literal["none", "frames", "sequence"] = "none"
    split_policy: SplitPolicy = "per_speaker"
    speaker_classes: bool = False   # classes are speakers: every dev/test speaker must be in train


@dataclass
class Corpus:
    splits: dict[str, list[Utterance]]
    speakers: list[str]                      # sorted; index = speaker class
    phone_names: list[str] | None = None     # index = phone id
    skipped: dict[str, int] = field(default_factory=dict)  # per split: utterances without the needed labels
    silence_ids: set[int] = field(default_factory=set)     # phone ids that are silence
    split_ids: dict[str, list[str]] = field(default_factory=dict)  # the split before label_fraction and skips
    speaker_info: dict[str, dict[str, str]] = field(default_factory=dict)

    def __post_init__(self):
        self._speaker_ids = {s: i for i, s in enumerate(self.speakers)}

    def speaker_index(self, speaker: str) -> int:
        return self._speaker_ids[speaker]


def load_corpus(cfg: DataConfig, needs: TaskData) -> Corpus:
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems(f"the labels of {listing.format} corpus {listing.root}")
    phone_names, silence = None, set()
    if needs.phones == "frames":
        phone_names = attach_frames(cfg, listing, problems)
        silence = silence_ids(phone_names, cfg.silence_phones) | {
            i for i, n in enumerate(phone_names) if n in listing.silence_phones}
    elif needs.phones == "sequence":
        phone_names, silence = attach_sequences(cfg, listing, problems)
    problems.raise_if_any()

    by_id = {u.uttid: u for u in listing.utterances}
    split_ids = choose_splits(cfg, listing, needs, by_id)
    if needs.speaker_classes:
        check_speaker_coverage(split_ids, {u: by_id[u].speaker for ids in split_ids.values() for u in ids})
    chosen_ids = dict(split_ids, train=label_fraction(split_ids["train"], cfg.label_fraction, cfg.split_seed))

    splits, skipped = {}, {}
    for split in SPLITS:
        chosen = [by_id[i] for i in chosen_ids[split]]
        if needs.phones != "none":
            missing = [u.uttid for u in chosen if _labels(u, needs) is None]
            if missing:
                log.warning("%s: %d utterance(s) have no phone %s and are skipped (e.g. %s)", split, len(missing),
                            "alignment" if needs.phones == "frames" else "transcript", ", ".join(missing[:3]))
            chosen = [u for u in chosen if _labels(u, needs) is not None]
            skipped[split] = len(missing)
        if not chosen:
            raise SplitError(f"the {split} split is empty ({listing.format} corpus {listing.root}); check the split "
                             "files, subsets and labels")
        splits[split] = chosen
    if phone_names is not None and needs.phones == "frames":
        _warn_unseen_phones(splits, phone_names)
    speakers = sorted({u.speaker for part in splits.values() for u in part})
    return Corpus(splits, speakers, phone_names, skipped, silence, split_ids, listing.speaker_info)


def _labels(utt: Utterance, needs: TaskData):
    return utt.phones if needs.phones == "frames" else utt.phone_sequence


def choose_splits(cfg: DataConfig, listing: CorpusListing, needs: TaskData,
                  by_id: dict[str, Utterance]) -> dict[str, list[str]]:
    """Split lists when given (``data.splits`` or ``ROOT/splits``), else the task's policy."""
    folder = resolve(listing.root, cfg.splits)
    if folder is None and (listing.root / "splits").is_dir():
        folder = listing.root / "splits"
    if folder is not None:
        split_ids = read_split_files(folder)
        for split, ids in split_ids.items():
            unknown = [i for i in ids if i not in by_id]
            if unknown:
                raise SplitError(f"{folder}: {split} lists {len(unknown)} utterance(s) not in the {listing.format} "
                                 f"corpus at {listing.root} (e.g. {', '.join(unknown[:3])})")
        log.info("splits from %s", folder)
        return split_ids
    policy = needs.split_policy if cfg.split_policy == "task" else cfg.split_policy
    speaker_of = {u: utt.speaker for u, utt in by_id.items()}
    log.info("splits: seeded 8:1:1 %s (data.split_policy=%s)",
             "per speaker" if policy == "per_speaker" else "by speaker (speaker-disjoint)", cfg.split_policy)
    if policy == "per_speaker":
        return split_per_speaker(speaker_of, cfg.split_seed)
    return split_disjoint_speakers(speaker_of, cfg.split_seed, listing.partition)


def _warn_unseen_phones(splits: dict[str, list[Utterance]], phone_names: list[str]) -> None:
    seen = {p for u in splits["train"] for p in set(u.phones)}
    for split in ("dev", "test"):
        unseen = sorted({p for u in splits[split] for p in set(u.phones)} - seen)
        if unseen:
            log.warning("%s holds phone(s) never seen in train: %s", split, ", ".join(phone_names[p] for p in unseen))
