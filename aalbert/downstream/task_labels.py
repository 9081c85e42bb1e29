"""The labels a task can consume, by name, and where each comes from in a loaded corpus.

A task declares what it reads once: ``Expert.labels`` (names below; a task config's top-level
``labels:`` may name them instead) and ``Expert.split_policy``. :func:`task_data` turns that
declaration into what the corpus loader must provide (:class:`~.data.TaskData`), and the checks
before training read the same result. A label name is one of:

* ``"frame_phones"``: a phone per 10 ms frame (alignments);
* ``"frame.NAME"``: frame labels of your own (``data.frame_labels.NAME``: TextGrid tiers, RTTM,
  s3prl-style files; or the expert's ``frame_labels`` hook), a class per 10 ms frame;
* ``"phone_sequence"``: the phones in order (CTC targets);
* ``"sequence.characters"`` / ``"sequence.words"``: symbols of the word transcripts (words joined
  by the ``|`` word boundary / words, those unseen in train read as ``<unk>``);
* ``"speaker"``: the classes are the speakers: every dev/test speaker must be in train, so the
  split is per speaker (``batch.speakers`` is filled for every task: a task that only groups by
  speaker does not declare it);
* ``"speaker.FIELD"`` / ``"utterance.FIELD"``: categorical metadata (classes: sorted values);
  ``"speaker.FIELD:numeric"`` / ``"utterance.FIELD:numeric"``: a number per utterance. Metadata
  comes from the reader (LibriSpeech ``SPEAKERS.TXT``, Kaldi ``spk2X``/``utt2X``, Lhotse) and
  ``data.metadata`` files.

``batch.labels[NAME]`` carries each declared label as tensors (:mod:`.data.label_values`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from aalbert.errors import TaskRequirementError

from .data import Batch, Corpus, TaskData
from .data.label_kinds import (  # noqa: F401 - the names task authors import from here
    CHARACTERS,
    FRAME,
    FRAME_PHONES,
    PHONE_SEQUENCE,
    SEQUENCE,
    SPEAKER,
    SPEAKER_METADATA,
    UNKNOWN_WORD,
    UTTERANCE_METADATA,
    WORD_BOUNDARY,
    WORDS,
    LabelSpec,
    frame_label,
    parse_label,
    speaker_field,
    utterance_field,
)
from .data.splits import SplitPolicy


def task_data(labels: Sequence[str], split_policy: SplitPolicy, task: str = "") -> TaskData:
    """What the corpus loader must provide to a task that reads ``labels`` with ``split_policy``:
    the one place a declaration becomes the loader's needs (a new kind of label starts here)."""
    specs = [parse_label(label) for label in labels]
    kinds = [spec.kind for spec in specs]
    if FRAME_PHONES in kinds and PHONE_SEQUENCE in kinds:
        raise TaskRequirementError(
            f"reads both {FRAME_PHONES} and {PHONE_SEQUENCE}, but the corpus gives a task one of them "
            f"(a {PHONE_SEQUENCE} task gets sequences from the alignments when there are no transcripts)"
        )
    phones: Literal["none", "frames", "sequence"] = (
        "frames" if FRAME_PHONES in kinds else "sequence" if PHONE_SEQUENCE in kinds else "none"
    )
    metadata = tuple(spec.name for spec in specs if spec.kind in (SPEAKER_METADATA, UTTERANCE_METADATA))
    # a speaker attribute tested on a voice heard in training measures memory: disjoint is required
    required = split_policy == "disjoint_speakers" and SPEAKER_METADATA in kinds
    return TaskData(phones, split_policy, SPEAKER in kinds, metadata, required, task, tuple(labels))


def metadata_value(corpus: Corpus, label: str, uttid: str, speaker: str) -> str | None:
    """The metadata field ``label`` names for one utterance (None when the corpus lacks it)."""
    spec = parse_label(label)
    if spec.field is None or spec.kind not in (SPEAKER_METADATA, UTTERANCE_METADATA):
        return None
    info = (
        corpus.speaker_info.get(speaker, {}) if spec.kind == SPEAKER_METADATA else corpus.utterance_info.get(uttid, {})
    )
    value = info.get(spec.field)
    return None if value is None else str(value)


def label_names(corpus: Corpus, label: str) -> list[str]:
    """The classes of ``label`` in this corpus (index = class id): the phone names, the speakers,
    the sorted symbols of a sequence label or values of a categorical one; [] for a numeric label."""
    spec = parse_label(label)
    if spec.kind in (FRAME_PHONES, PHONE_SEQUENCE):
        return list(corpus.phone_names or [])
    if spec.kind == SPEAKER:
        return list(corpus.speakers)
    if spec.numeric:
        return []
    if label in corpus.label_classes:  # sequences and frame labels: fixed when the corpus was loaded
        return list(corpus.label_classes[label])
    values = {metadata_value(corpus, label, u.uttid, u.speaker) for part in corpus.splits.values() for u in part}
    return sorted(v for v in values if v is not None)


def utterance_labels(corpus: Corpus, label: str, batch: Batch) -> list[str]:
    """One value of an utterance-level label (speaker or metadata) per utterance of ``batch``, as text."""
    spec = parse_label(label)
    speakers = [corpus.speakers[int(i)] for i in batch.speakers]
    if spec.kind == SPEAKER:
        return speakers
    if spec.kind not in (SPEAKER_METADATA, UTTERANCE_METADATA):
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
