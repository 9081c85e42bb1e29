"""Label names, parsed: what kind of label each is (the data layer's half of aalbert.downstream.task_labels).

See aalbert.downstream.task_labels for what each label is and where it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from aalbert.errors import TaskRequirementError

FRAME_PHONES = "frame_phones"
PHONE_SEQUENCE = "phone_sequence"
SPEAKER = "speaker"
CHARACTERS = "sequence.characters"
WORDS = "sequence.words"
WORD_BOUNDARY = "|"  # the character between words in sequence.characters
UNKNOWN_WORD = "<unk>"  # a dev/test word never seen in train, in sequence.words
# kinds of labels, as parse_label names them ("speaker.gender" -> kind "speaker_metadata", field "gender")
SPEAKER_METADATA = "speaker_metadata"
UTTERANCE_METADATA = "utterance_metadata"
SEQUENCE = "sequence"
FRAME = "frame"
_METADATA_PREFIXES = {"speaker": SPEAKER_METADATA, "utterance": UTTERANCE_METADATA}
SEQUENCE_UNITS = ("characters", "words")
Kind = Literal[
    "frame_phones", "phone_sequence", "speaker", "speaker_metadata", "utterance_metadata", "sequence", "frame"
]


@dataclass(frozen=True)
class LabelSpec:
    """A label name, parsed: its kind, the field (metadata key, sequence unit, frame label name) and type."""

    name: str
    kind: Kind
    field: str | None = None
    numeric: bool = False

    @property
    def per_utterance(self) -> bool:
        """One value per utterance (speaker, metadata), rather than per frame or a sequence."""
        return self.kind in (SPEAKER, SPEAKER_METADATA, UTTERANCE_METADATA)

    @property
    def is_sequence(self) -> bool:
        return self.kind in (PHONE_SEQUENCE, SEQUENCE)

    @property
    def is_frames(self) -> bool:
        return self.kind in (FRAME_PHONES, FRAME)


def speaker_field(name: str, numeric: bool = False) -> str:
    return f"speaker.{name}" + (":numeric" if numeric else "")


def utterance_field(name: str, numeric: bool = False) -> str:
    return f"utterance.{name}" + (":numeric" if numeric else "")


def frame_label(name: str) -> str:
    return f"frame.{name}"


_KNOWN = (
    f"{FRAME_PHONES}, frame.NAME, {PHONE_SEQUENCE}, {CHARACTERS}, {WORDS}, {SPEAKER}, "
    "speaker.FIELD[:numeric] or utterance.FIELD[:numeric]"
)


def parse_label(label: str) -> LabelSpec:
    """A label name -> its :class:`LabelSpec`; an unknown name is a TaskRequirementError listing the kinds."""
    if label in (FRAME_PHONES, PHONE_SEQUENCE, SPEAKER):
        return LabelSpec(label, cast(Kind, label))
    prefix, _, rest = label.partition(".")
    field, _, value_type = rest.partition(":")
    if prefix in _METADATA_PREFIXES and field and value_type in ("", "categorical", "numeric"):
        return LabelSpec(label, cast(Kind, _METADATA_PREFIXES[prefix]), field, value_type == "numeric")
    if prefix == SEQUENCE and rest in SEQUENCE_UNITS:
        return LabelSpec(label, "sequence", rest)
    if prefix == FRAME and rest and ":" not in rest:
        return LabelSpec(label, "frame", rest)
    raise TaskRequirementError(f"unknown label {label!r}: use {_KNOWN}")
