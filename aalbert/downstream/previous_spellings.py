"""The previous release's ways of saying what a task reads, read once when an expert class is defined.

A task now declares ``labels`` and ``split_policy`` and nothing else. Experts written for the
previous release keep working: a reusable head's one label (``label``, ``frame_label``,
``sequence_label``) and ``speaker_classes = True`` become ``labels``, with a DeprecationWarning
saying what to write. What had no user (``needs_phones``, ``phone_labels``) and what now means
something else (``speaker_classes = False`` beside the label ``speaker``) is a one-line error
saying what to write instead.
"""

from __future__ import annotations

import warnings

from aalbert.errors import TaskRequirementError

from .task_labels import FRAME_PHONES, PHONE_SEQUENCE, SPEAKER

HEAD_LABELS = ("label", "frame_label", "sequence_label")  # one label of a reusable head
NO_USER = {
    "needs_phones": f"labels = ({FRAME_PHONES!r},)",
    "phone_labels": f"labels = ({PHONE_SEQUENCE!r},) (or ({FRAME_PHONES!r},))",
}


def read_previous_spellings(cls: type) -> None:
    """Turn the previous spellings ``cls`` defines itself into ``cls.labels``."""
    own = cls.__dict__
    where = f"{cls.__module__}.{cls.__qualname__}"
    for name, instead in NO_USER.items():
        if name in own:
            raise TaskRequirementError(f"{where}: {name} is no longer read: write {instead}")
    before: tuple[str, ...] = tuple(getattr(cls, "labels", ()))
    labels, said = before, []
    head = [name for name in HEAD_LABELS if name in own]
    if head and "labels" not in own:
        labels = (own[head[0]],)
        said.append(f"{head[0]} = {own[head[0]]!r}")
    if "speaker_classes" in own:
        said.append(f"speaker_classes = {own['speaker_classes']!r}")
        if own["speaker_classes"] and SPEAKER not in labels:
            labels = (*labels, SPEAKER)
        elif not own["speaker_classes"] and SPEAKER in labels:
            raise TaskRequirementError(
                f"{where}: speaker_classes = False is no longer read, and the label {SPEAKER!r} now says the "
                f"classes are speakers: remove {SPEAKER!r} from labels (batch.speakers is filled for every task)"
            )
    if not said:
        return
    cls.labels = labels  # type: ignore[attr-defined]
    advice = f"write labels = {labels!r}" if labels != before else f"labels = {labels!r} already says it: remove it"
    # stacklevel: this function, __init_subclass__, then the class statement of the task's module
    warnings.warn(f"{where}: {', '.join(said)} is the previous release's spelling: {advice}", DeprecationWarning, 3)
