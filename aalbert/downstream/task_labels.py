"""The labels a task can consume, by name, and where each comes from in a loaded corpus.

A task declares what it reads once, on its expert: ``Expert.labels`` (names below) and
``Expert.split_policy``. :func:`task_data` turns that declaration into what the corpus loader
must provide (:class:`~.data.TaskData`), and the checks before training read the same result.
A label name is one of:

* ``"frame_phones"``: a phone per 10 ms frame (alignments; ``batch.phones``);
* ``"phone_sequence"``: the phones in order (CTC targets; ``batch.phone_sequences``);
* ``"speaker"``: the classes are the speakers (``batch.speakers``, an index into ``corpus.speakers``):
  every dev/test speaker must be in train, so the split is per speaker (``batch.speakers`` is
  filled for every task: a task that only groups by speaker does not declare it);
* ``"speaker.FIELD"``: a field of the per-speaker metadata the reader found (``speaker.gender``
  from LibriSpeech ``SPEAKERS.TXT``, Kaldi ``spk2gender``, Lhotse supervisions);
* ``"utterance.FIELD"``: a field of the per-utterance metadata (``Utterance.info``).

The runner checks before training that the corpus has every declared label (see
:mod:`.task_checks`); :func:`label_names` gives a label's classes and :func:`utterance_labels`
a batch's label values (:func:`present_labels` one utterance's phones), so reusable heads work
over any of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aalbert.errors import TaskRequirementError

from .data import Batch, Corpus, TaskData
from .data.splits import SplitPolicy

FRAME_PHONES = "frame_phones"
PHONE_SEQUENCE = "phone_sequence"
SPEAKER = "speaker"
# kinds of metadata labels, as parse_label names them ("speaker.gender" -> ("speaker_metadata", "gender"))
SPEAKER_METADATA = "speaker_metadata"
UTTERANCE_METADATA = "utterance_metadata"
_METADATA_PREFIXES = {"speaker": SPEAKER_METADATA, "utterance": UTTERANCE_METADATA}


def speaker_field(name: str) -> str:
    return f"speaker.{name}"


def utterance_field(name: str) -> str:
    return f"utterance.{name}"


def parse_label(label: str) -> tuple[str, str | None]:
    """``(kind, field)``: kind is frame_phones, phone_sequence, speaker (field None), speaker_metadata
    or utterance_metadata (field: the metadata key)."""
    if label in (FRAME_PHONES, PHONE_SEQUENCE, SPEAKER):
        return label, None
    prefix, _, field = label.partition(".")
    if prefix in _METADATA_PREFIXES and field:
        return _METADATA_PREFIXES[prefix], field
    raise TaskRequirementError(
        f"unknown label {label!r}: use {FRAME_PHONES}, {PHONE_SEQUENCE}, {SPEAKER}, speaker.FIELD or utterance.FIELD"
    )


def task_data(labels: Sequence[str], split_policy: SplitPolicy, task: str = "") -> TaskData:
    """What the corpus loader must provide to a task that reads ``labels`` with ``split_policy``:
    the one place a declaration becomes the loader's needs (a new kind of label starts here)."""
    kinds = [parse_label(label)[0] for label in labels]
    if FRAME_PHONES in kinds and PHONE_SEQUENCE in kinds:
        raise TaskRequirementError(
            f"reads both {FRAME_PHONES} and {PHONE_SEQUENCE}, but the corpus gives a task one of them "
            f"(a {PHONE_SEQUENCE} task gets sequences from the alignments when there are no transcripts)"
        )
    phones: Literal["none", "frames", "sequence"] = (
        "frames" if FRAME_PHONES in kinds else "sequence" if PHONE_SEQUENCE in kinds else "none"
    )
    metadata = tuple(label for label, kind in zip(labels, kinds) if kind in (SPEAKER_METADATA, UTTERANCE_METADATA))
    # a speaker attribute tested on a voice heard in training measures memory: disjoint is required
    required = split_policy == "disjoint_speakers" and SPEAKER_METADATA in kinds
    return TaskData(phones, split_policy, SPEAKER in kinds, metadata, required, task)


def metadata_value(corpus: Corpus, label: str, uttid: str, speaker: str) -> str | None:
    """The metadata field ``label`` names for one utterance (None when the corpus lacks it)."""
    kind, field = parse_label(label)
    if field is None:  # not a metadata label: there is no field to look up
        return None
    info = corpus.speaker_info.get(speaker, {}) if kind == SPEAKER_METADATA else corpus.utterance_info.get(uttid, {})
    value = info.get(field)
    return None if value is None else str(value)


def label_names(corpus: Corpus, label: str) -> list[str]:
    """The classes of ``label`` in this corpus (index = class id): sorted metadata values over the
    utterances of every split, the speakers, or the phone names."""
    kind, _ = parse_label(label)
    if kind in (FRAME_PHONES, PHONE_SEQUENCE):
        return list(corpus.phone_names or [])
    if kind == SPEAKER:
        return list(corpus.speakers)
    values = {metadata_value(corpus, label, u.uttid, u.speaker) for part in corpus.splits.values() for u in part}
    return sorted(v for v in values if v is not None)


def utterance_labels(corpus: Corpus, label: str, batch: Batch) -> list[str]:
    """One value of an utterance-level label (speaker or metadata) per utterance of ``batch``."""
    kind, _ = parse_label(label)
    speakers = [corpus.speakers[int(i)] for i in batch.speakers]
    if kind == SPEAKER:
        return speakers
    if kind not in (SPEAKER_METADATA, UTTERANCE_METADATA):
        raise TaskRequirementError(f"{label} is not an utterance-level label")
    values = [metadata_value(corpus, label, u, s) for u, s in zip(batch.uttids, speakers)]
    missing = [u for u, v in zip(batch.uttids, values) if v is None]
    if missing:  # checked before training; reaching this means the corpus changed under the run
        raise TaskRequirementError(f"utterance(s) {', '.join(missing[:3])} have no {label}")
    return [v for v in values if v is not None]


def present_labels(label: str, values: list[int] | None, uttid: str) -> list[int]:
    """One utterance's phone labels (``batch.phones`` or ``batch.phone_sequences`` entry) for ``label``:
    load_corpus keeps only utterances with the labels their task declares, so None means a task
    reading a label it does not declare."""
    if values is None:
        raise TaskRequirementError(f"utterance {uttid} has no {label}; is it in the expert's labels?")
    return values
