"""One place that turns a ``DataConfig`` into train/dev/test utterance lists with labels.

The corpus is read by the reader ``data.format`` names (:mod:`aalbert.corpus.registry`),
labels are attached (:mod:`.attach`), every problem found is reported at once, and the
split follows the task unless split lists are given (:mod:`.splits`). Utterances without the
labels a task needs are skipped, logged and counted per split (results.json reports them).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aalbert.corpus.problems import Problems
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.utterance import CorpusListing, Utterance
from aalbert.errors import MissingFileError, TaskRequirementError

from ..config import DataConfig
from .attach import attach_frames, attach_sequences, resolve, silence_ids
from .splits import (
    SPLITS,
    SplitError,
    SplitPolicy,
    check_speaker_coverage,
    label_fraction,
    read_split_files,
    split_disjoint_speakers,
    split_per_speaker,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskData:
    """What a task needs from a corpus; for a task, ``task_labels.task_data`` derives it from the
    expert's ``labels`` and ``split_policy`` (the one place)."""

    phones: Literal["none", "frames", "sequence"] = "none"
    split_policy: SplitPolicy = "per_speaker"
    speaker_classes: bool = False  # classes are speakers: every dev/test speaker must be in train
    metadata: tuple[str, ...] = ()  # metadata labels read ("speaker.gender", "utterance.FIELD")
    # no speaker in two splits, whatever the split lists say (a speaker attribute tested on a
    # voice heard in training measures memory, not the attribute)
    disjoint_speakers_required: bool = False
    task: str = ""  # who asks: named in error messages


@dataclass
class Corpus:
    splits: dict[str, list[Utterance]]
    speakers: list[str]  # sorted; index = speaker class
    phone_names: list[str] | None = None  # index = phone id
    skipped: dict[str, int] = field(default_factory=dict)  # per split: utterances without the needed labels
    silence_ids: set[int] = field(default_factory=set)  # phone ids that are silence
    split_ids: dict[str, list[str]] = field(default_factory=dict)  # the split before label_fraction and skips
    speaker_info: dict[str, dict[str, str]] = field(default_factory=dict)  # speaker -> metadata ({"gender": "f"})
    root: Path | None = None  # the corpus folder (the first of data.roots)
    format: str = ""  # the reader that read it (data.format)
    utterance_info: dict[str, dict[str, str]] = field(default_factory=dict)  # uttid -> metadata
    # "path: problem" of each audio file left out (data.bad_audio: skip); results.json counts them
    bad_audio: list[str] = field(default_factory=list)

    def __post_init__(self):
        self._speaker_ids = {s: i for i, s in enumerate(self.speakers)}

    def speaker_index(self, speaker: str) -> int:
        return self._speaker_ids[speaker]


def load_corpus(cfg: DataConfig, needs: TaskData) -> Corpus:
    """The corpus with the labels and split ``needs`` asks for; a need the corpus cannot meet is an
    error naming the task (``needs.task``)."""
    try:
        return _load_corpus(cfg, needs)
    except (SplitError, MissingFileError) as err:
        if not needs.task:
            raise
        raise type(err)(f"task {needs.task}: {err}") from err


def _load_corpus(cfg: DataConfig, needs: TaskData) -> Corpus:
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems(f"the labels of {listing.format} corpus {listing.root}")
    phone_names, silence = None, set()
    if needs.phones == "frames":
        phone_names = attach_frames(cfg, listing, problems)
        silence = silence_ids(phone_names, cfg.silence_phones) | {
            i for i, n in enumerate(phone_names) if n in listing.silence_phones
        }
    elif needs.phones == "sequence":
        phone_names, silence = attach_sequences(cfg, listing, problems)
    problems.raise_if_any()

    by_id = {u.uttid: u for u in listing.utterances}
    split_ids = choose_splits(cfg, listing, needs, by_id)
    _check_metadata(listing, needs, [by_id[u] for ids in split_ids.values() for u in ids])
    if needs.speaker_classes:
        check_speaker_coverage(split_ids, {u: by_id[u].speaker for ids in split_ids.values() for u in ids})
    chosen_ids = dict(split_ids, train=label_fraction(split_ids["train"], cfg.label_fraction, cfg.split_seed))

    splits, skipped = {}, {}
    for split in SPLITS:
        chosen = [by_id[i] for i in chosen_ids[split]]
        if needs.phones != "none":
            missing = [u.uttid for u in chosen if _labels(u, needs) is None]
            if missing:
                log.warning(
                    "%s: %d utterance(s) have no phone %s and are skipped (e.g. %s)",
                    split,
                    len(missing),
                    "alignment" if needs.phones == "frames" else "transcript",
                    ", ".join(missing[:3]),
                )
            chosen = [u for u in chosen if _labels(u, needs) is not None]
            skipped[split] = len(missing)
        if not chosen:
            raise SplitError(
                f"the {split} split is empty ({listing.format} corpus {listing.root}); check the split "
                "files, subsets and labels"
            )
        splits[split] = chosen
    if phone_names is not None and needs.phones == "frames":
        _warn_unseen_phones(splits, phone_names)
    speakers = sorted({u.speaker for part in splits.values() for u in part})
    return Corpus(
        splits,
        speakers,
        phone_names,
        skipped,
        silence,
        split_ids,
        listing.speaker_info,
        listing.root,
        listing.format,
        {u.uttid: u.info for part in splits.values() for u in part if u.info},
        listing.unusable,
    )


def _check_metadata(listing: CorpusListing, needs: TaskData, utterances: list[Utterance]) -> None:
    """Every utterance must have the metadata fields the task reads (checked before training)."""
    for label in needs.metadata:
        kind, _, name = label.partition(".")
        if kind == "speaker":
            lacking = sorted({u.speaker for u in utterances if name not in listing.speaker_info.get(u.speaker, {})})
            what = "speaker(s)"
        else:
            lacking = sorted(u.uttid for u in utterances if name not in u.info)
            what = "utterance(s)"
        if lacking:
            found = (
                sorted({k for info in listing.speaker_info.values() for k in info})
                if kind == "speaker"
                else sorted({k for u in utterances for k in u.info})
            )
            raise TaskRequirementError(
                f"task {needs.task or '?'} reads {label}, but {len(lacking)} {what} of the {listing.format} corpus at "
                f"{listing.root} have no {name!r} (e.g. {', '.join(lacking[:3])}; metadata found: "
                f"{', '.join(found) or 'none'}). LibriSpeech gives speaker.gender from SPEAKERS.TXT, Kaldi from "
                "spk2gender"
            )


def _labels(utt: Utterance, needs: TaskData):
    return utt.phones if needs.phones == "frames" else utt.phone_sequence


def split_lists_folder(cfg: DataConfig, listing: CorpusListing) -> Path | None:
    """The split lists a run reads when its task allows them: ``data.splits``, else ``ROOT/splits``."""
    explicit = resolve(listing.root, cfg.splits)
    if explicit is None and (listing.root / "splits").is_dir():
        return listing.root / "splits"
    return explicit


def choose_splits(
    cfg: DataConfig, listing: CorpusListing, needs: TaskData, by_id: dict[str, Utterance]
) -> dict[str, list[str]]:
    """Split lists when given (``data.splits`` or ``ROOT/splits``), else the task's policy.

    A task that requires speaker-disjoint splits refuses given lists (and a ``data.split_policy``)
    that share speakers; lists merely found in ``ROOT/splits`` are then passed over, with a warning.
    """
    explicit = resolve(listing.root, cfg.splits)
    folder = split_lists_folder(cfg, listing)
    speaker_of = {u: utt.speaker for u, utt in by_id.items()}
    if folder is not None:
        split_ids = read_split_files(folder, by_id)
        if listing.unusable_ids:  # data.bad_audio: skip left their audio out
            split_ids = {split: [i for i in ids if i not in listing.unusable_ids] for split, ids in split_ids.items()}
        for split, ids in split_ids.items():
            unknown = [i for i in ids if i not in by_id]
            if unknown:
                raise SplitError(
                    f"{folder}: {split} lists {len(unknown)} utterance(s) not in the {listing.format} "
                    f"corpus at {listing.root} (e.g. {', '.join(unknown[:3])})"
                )
        shared = shared_speakers(split_ids, speaker_of)
        if not (needs.disjoint_speakers_required and shared):
            log.info("splits from %s", folder)
            return split_ids
        if explicit is not None:
            raise SplitError(
                f"needs speaker-disjoint splits, but the split lists of {folder} put {len(shared)} "
                f"speaker(s) in more than one split (e.g. {', '.join(shared[:3])}); give disjoint lists "
                "or leave data.splits unset"
            )
        log.warning(
            "%s: not using the split lists of %s (they share %d speakers between splits, the task needs "
            "speaker-disjoint splits)",
            needs.task or "task",
            folder,
            len(shared),
        )
    policy = needs.split_policy if cfg.split_policy == "task" else cfg.split_policy
    if needs.disjoint_speakers_required and policy != "disjoint_speakers":
        raise SplitError(
            f"needs speaker-disjoint splits; data.split_policy={cfg.split_policy} puts every speaker in every split"
        )
    log.info(
        "splits: seeded 8:1:1 %s (data.split_policy=%s)",
        "per speaker" if policy == "per_speaker" else "by speaker (speaker-disjoint)",
        cfg.split_policy,
    )
    if policy == "per_speaker":
        return split_per_speaker(speaker_of, cfg.split_seed)
    return split_disjoint_speakers(speaker_of, cfg.split_seed, listing.partition)


def shared_speakers(split_ids: dict[str, list[str]], speaker_of: dict[str, str]) -> list[str]:
    """Speakers with utterances in more than one split."""
    seen: dict[str, set[str]] = {}
    for split, ids in split_ids.items():
        for u in ids:
            seen.setdefault(speaker_of[u], set()).add(split)
    return sorted(s for s, splits in seen.items() if len(splits) > 1)


def _warn_unseen_phones(splits: dict[str, list[Utterance]], phone_names: list[str]) -> None:
    # every utterance here has frame labels (load_corpus skips the others): ``or ()`` only narrows the type
    seen = {p for u in splits["train"] for p in u.phones or ()}
    for split in ("dev", "test"):
        unseen = sorted({p for u in splits[split] for p in u.phones or ()} - seen)
        if unseen:
            log.warning("%s holds phone(s) never seen in train: %s", split, ", ".join(phone_names[p] for p in unseen))
