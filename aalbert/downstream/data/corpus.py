"""One place that turns a ``DataConfig`` into train/dev/test utterance lists with labels.

The corpus is read by the reader ``data.format`` names (:mod:`aalbert.corpus.registry`),
labels are attached (:mod:`.attach`), every problem found is reported at once, and the
split follows the task unless split lists are given (:mod:`.splits`). Utterances without the
labels a task needs are skipped, logged and counted per split (results.json reports them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from aalbert.corpus.metadata import attach_metadata, metadata_entry
from aalbert.corpus.problems import Problems
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.utterance import CorpusListing, Utterance
from aalbert.errors import MissingFileError, TaskRequirementError

from ..config import DataConfig
from .attach import attach_frames, attach_sequences, resolve, silence_ids
from .label_kinds import (
    FRAME,
    FRAME_PHONES,
    PHONE_SEQUENCE,
    SEQUENCE,
    SPEAKER,
    SPEAKER_METADATA,
    UTTERANCE_METADATA,
    LabelSpec,
    parse_label,
)
from .label_values import check_numbers, encode, raw_value, sequence_classes
from .split_choice import choose_splits
from .splits import SPLITS, SplitError, SplitPolicy, check_speaker_coverage, label_fraction

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
    labels: tuple[str, ...] = ()  # every label the task reads, as declared (batch.labels has each)
    # the expert's frame-label hook (Expert.frame_labels) for frame.NAME labels no data.frame_labels source gives
    frame_label_hook: Callable | None = field(default=None, compare=False)


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
    labels: tuple[str, ...] = ()  # the labels batches carry (batch.labels), as the task declared them
    label_classes: dict[str, list[str]] = field(default_factory=dict)  # label -> classes, fixed at load
    # per split: label -> utterances left out for lacking it (results.json)
    skipped_labels: dict[str, dict[str, int]] = field(default_factory=dict)
    trials: list[tuple[int, str, str]] = field(default_factory=list)  # the reader's verification trials

    def __post_init__(self):
        self._speaker_ids = {s: i for i, s in enumerate(self.speakers)}
        self._indexes = {label: {c: i for i, c in enumerate(names)} for label, names in self.label_classes.items()}

    def speaker_index(self, speaker: str) -> int:
        return self._speaker_ids[speaker]

    def label_values(self, utt: Utterance) -> dict[str, Any]:
        """What ``batch.labels`` holds for ``utt``: each declared label's class id, number or ids."""
        out: dict[str, Any] = {}
        for label in self.labels:
            spec = parse_label(label)
            if spec.kind == SPEAKER:
                out[label] = self.speaker_index(utt.speaker)
            elif spec.kind in (FRAME_PHONES, PHONE_SEQUENCE) or spec.numeric:
                out[label] = encode(spec, utt, self.speaker_info, None)
            else:
                out[label] = encode(spec, utt, self.speaker_info, self._indexes[label])
        return out


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
    if cfg.metadata:
        entries = [metadata_entry(e) for e in cfg.metadata]
        attach_metadata(listing, [replace(e, path=str(resolve(listing.root, e.path))) for e in entries], problems)
    phone_names, silence = None, set()
    if needs.phones == "frames":
        phone_names = attach_frames(cfg, listing, problems)
        silence = silence_ids(phone_names, cfg.silence_phones) | {
            i for i, n in enumerate(phone_names) if n in listing.silence_phones
        }
    elif needs.phones == "sequence":
        phone_names, silence = attach_sequences(cfg, listing, problems)
    specs = [parse_label(label) for label in needs.labels]
    frame_classes = {}
    for spec in specs:
        if spec.kind == FRAME:
            from .frame_labels import attach_frame_labels  # late: frame-label sources import TextGrid/RTTM readers

            hook = needs.frame_label_hook
            frame_classes[spec.name] = attach_frame_labels(cfg, listing, str(spec.field), hook, needs.task, problems)
    problems.raise_if_any()

    by_id = {u.uttid: u for u in listing.utterances}
    split_ids = choose_splits(cfg, listing, needs, by_id)
    _check_fields_exist(listing, specs, needs, [by_id[u] for ids in split_ids.values() for u in ids])
    if needs.speaker_classes:
        check_speaker_coverage(split_ids, {u: by_id[u].speaker for ids in split_ids.values() for u in ids})
    chosen_ids = dict(split_ids, train=label_fraction(split_ids["train"], cfg.label_fraction, cfg.split_seed))

    splits, skipped, skipped_labels = {}, {}, {}
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
        chosen, skipped_labels[split] = _with_labels(chosen, specs, listing, split)
        if skipped_labels[split]:
            skipped[split] = skipped.get(split, 0) + sum(skipped_labels[split].values())
        if not chosen:
            raise SplitError(
                f"the {split} split is empty ({listing.format} corpus {listing.root}); check the split "
                "files, subsets and labels"
            )
        splits[split] = chosen
    for spec in specs:
        if spec.numeric:
            check_numbers(
                spec, [u for part in splits.values() for u in part], listing.speaker_info, listing.metadata_sources
            )
    if phone_names is not None and needs.phones == "frames":
        _warn_unseen_phones(splits, phone_names)
    speakers = sorted({u.speaker for part in splits.values() for u in part})
    classes = dict(frame_classes)
    for spec in specs:
        if spec.kind == SEQUENCE:
            classes[spec.name] = sequence_classes(spec, splits)
        elif spec.kind in (SPEAKER_METADATA, UTTERANCE_METADATA) and not spec.numeric:
            values = {raw_value(spec, u, listing.speaker_info) for part in splits.values() for u in part}
            classes[spec.name] = sorted(str(v) for v in values if v is not None)
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
        tuple(needs.labels),
        classes,
        {split: counts for split, counts in skipped_labels.items() if counts},
        trials=listing.trials,
    )


def _with_labels(
    utterances: list[Utterance], specs: list[LabelSpec], listing: CorpusListing, split: str
) -> tuple[list[Utterance], dict[str, int]]:
    """The utterances that have every label beyond phones (metadata, sequences, frame labels); the others
    are left out, as Kaldi's fix_data_dir.sh leaves out utterances missing from a file, and counted."""
    skipped: dict[str, int] = {}
    for spec in specs:
        if spec.kind in (SPEAKER, FRAME_PHONES, PHONE_SEQUENCE):
            continue
        missing = [u.uttid for u in utterances if raw_value(spec, u, listing.speaker_info) is None]
        if missing:
            log.warning(
                "%s: %d utterance(s) have no %s and are left out (e.g. %s)",
                split,
                len(missing),
                spec.name,
                ", ".join(missing[:3]),
            )
            skipped[spec.name] = len(missing)
            utterances = [u for u in utterances if raw_value(spec, u, listing.speaker_info) is not None]
    return utterances, skipped


def _check_fields_exist(
    listing: CorpusListing, specs: list[LabelSpec], needs: TaskData, utterances: list[Utterance]
) -> None:
    """A metadata field the task reads must exist in the corpus (a few utterances lacking it are left out
    later; none having it is a typo or a missing file)."""
    for spec in specs:
        if spec.kind not in (SPEAKER_METADATA, UTTERANCE_METADATA):
            continue
        if any(raw_value(spec, u, listing.speaker_info) is not None for u in utterances):
            continue
        per = "speaker" if spec.kind == SPEAKER_METADATA else "utterance"
        found = (
            sorted({k for info in listing.speaker_info.values() for k in info})
            if per == "speaker"
            else sorted({k for u in utterances for k in u.info})
        )
        raise TaskRequirementError(
            f"task {needs.task or '?'} reads {spec.name}, but no {per} of the {listing.format} corpus at "
            f"{listing.root} has {spec.field!r} ({per} metadata found: {', '.join(found) or 'none'}). LibriSpeech "
            f"gives speaker.gender from SPEAKERS.TXT, Kaldi every spk2FIELD / utt2FIELD file; add a file with "
            f"data.metadata (a Kaldi {'spk2' if per == 'speaker' else 'utt2'}{spec.field} file or a CSV/TSV/JSON table)"
        )


def _labels(utt: Utterance, needs: TaskData):
    return utt.phones if needs.phones == "frames" else utt.phone_sequence


def _warn_unseen_phones(splits: dict[str, list[Utterance]], phone_names: list[str]) -> None:
    # every utterance here has frame labels (load_corpus skips the others): ``or ()`` only narrows the type
    seen = {p for u in splits["train"] for p in u.phones or ()}
    for split in ("dev", "test"):
        unseen = sorted({p for u in splits[split] for p in u.phones or ()} - seen)
        if unseen:
            log.warning("%s holds phone(s) never seen in train: %s", split, ", ".join(phone_names[p] for p in unseen))
