"""A declared label's value for one utterance, and its classes: what ``batch.labels[NAME]`` carries.

* ``speaker``, categorical ``speaker.F`` / ``utterance.F``: a class id (LongTensor (B,) in a batch);
* ``...:numeric``: a float (FloatTensor (B,));
* ``phone_sequence``, ``sequence.characters`` / ``sequence.words``: symbol ids (a LongTensor per utterance);
* ``frame_phones``, ``frame.NAME``: an id per 10 ms frame (a LongTensor per utterance).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from aalbert.corpus.utterance import Utterance
from aalbert.errors import BadInputError

from .label_kinds import (
    FRAME,
    FRAME_PHONES,
    PHONE_SEQUENCE,
    SEQUENCE,
    SPEAKER,
    SPEAKER_METADATA,
    UNKNOWN_WORD,
    WORD_BOUNDARY,
    LabelSpec,
)


def characters(words: list[str]) -> list[str]:
    """A word transcript as characters, words joined by the word boundary: HI YOU -> H I | Y O U."""
    return list(WORD_BOUNDARY.join(words))


def raw_value(spec: LabelSpec, utt: Utterance, speaker_info: Mapping[str, Mapping[str, str]]) -> Any:
    """The label's value for ``utt`` before it becomes ids (None: the utterance lacks it)."""
    if spec.kind == SPEAKER:
        return utt.speaker
    if spec.kind in (SPEAKER_METADATA, "utterance_metadata"):
        info = speaker_info.get(utt.speaker, {}) if spec.kind == SPEAKER_METADATA else utt.info
        return info.get(spec.field or "")
    if spec.kind == FRAME_PHONES:
        return utt.phones
    if spec.kind == PHONE_SEQUENCE:
        return utt.phone_sequence
    if spec.kind == SEQUENCE:
        if not utt.words:
            return None
        return characters(utt.words) if spec.field == "characters" else list(utt.words)
    if spec.kind == FRAME:
        return utt.labels.get(spec.name)
    raise AssertionError(spec)


def sequence_classes(spec: LabelSpec, splits: Mapping[str, list[Utterance]]) -> list[str]:
    """Characters: every symbol of every split (a closed set). Words: train's words, plus <unk> for
    the dev/test words train never had (they are scored as errors, as an open vocabulary must)."""
    if spec.field == "characters":
        return sorted({c for part in splits.values() for u in part for c in characters(u.words or [])})
    return sorted({w for u in splits.get("train", []) for w in u.words or []}) + [UNKNOWN_WORD]


def parse_number(value: str, spec: LabelSpec, key: str, source: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        raise BadInputError(f"{source}: {spec.name} of {key} is {value!r}, not a finite number")
    return number


def check_numbers(
    spec: LabelSpec, utterances: Iterable[Utterance], speaker_info: Mapping, sources: Mapping[tuple[str, str], str]
) -> None:
    """Every value of a numeric label parses (checked before training; the error names the file)."""
    per = "speaker" if spec.kind == SPEAKER_METADATA else "utterance"
    source = sources.get((per, spec.field or ""), f"the {per} metadata")
    for utt in utterances:
        value = raw_value(spec, utt, speaker_info)
        if value is not None:
            parse_number(value, spec, utt.speaker if per == "speaker" else utt.uttid, source)


def encode(spec: LabelSpec, utt: Utterance, speaker_info: Mapping, index: Mapping[str, int] | None) -> Any:
    """The value ``batch.labels[spec.name]`` holds for ``utt``: a class id, a float or a list of ids."""
    value = raw_value(spec, utt, speaker_info)
    if spec.numeric:
        return float(value)
    if spec.kind in (FRAME_PHONES, PHONE_SEQUENCE, FRAME):
        return list(value)  # already ids
    assert index is not None, spec.name
    if spec.kind == SEQUENCE:
        unknown = index.get(UNKNOWN_WORD, -1)
        return [index.get(symbol, unknown) for symbol in value]
    return index[str(value)]
