"""Bringing 10 ms frame labels to an upstream's frame rate.

Alignments label every 10 ms frame; an upstream that stacks ``k`` frames emits one feature
per ``k`` of them. Labels are grouped the same way (majority vote inside each group), then the
two lengths are reconciled: framing conventions differ by a frame or two at the edges (centre
vs. left-aligned windows, padded last group), so small mismatches are repaired while a larger
one means the label and the audio do not belong together and is an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import torch

from aalbert.errors import AalbertError

MAX_MISMATCH = 2  # frames; beyond this the labels and audio disagree, not just their framing
IGNORE_INDEX = -100  # padding label for F.cross_entropy


class LabelLengthError(AalbertError):
    """Labels and features of one utterance differ by more than ``MAX_MISMATCH`` frames."""


def stack_labels(labels: Sequence[int], factor: int) -> list[int]:
    """Majority label of each group of ``factor`` consecutive frames (last group may be short).

    A tie (e.g. three different labels) takes the group's centre frame, the one whose window
    best matches the stacked feature.
    """
    if factor < 1:
        raise ValueError(f"stacking factor must be >= 1, got {factor}")
    labels = list(labels)
    if factor == 1:
        return labels
    out = []
    for start in range(0, len(labels), factor):
        group = labels[start : start + factor]
        counts = Counter(group).most_common()
        if len(counts) > 1 and counts[0][1] == counts[1][1]:
            out.append(group[len(group) // 2])
        else:
            out.append(counts[0][0])
    return out


def reconcile_length(labels: Sequence[int], num_frames: int, uttid: str, max_mismatch: int = MAX_MISMATCH) -> list[int]:
    """Pad (repeating the last label) or trim ``labels`` to ``num_frames``."""
    labels = list(labels)
    diff = len(labels) - num_frames
    if abs(diff) > max_mismatch:
        raise LabelLengthError(
            f"utterance {uttid}: {len(labels)} label frames vs {num_frames} feature frames "
            f"(mismatch {diff:+d}, at most {max_mismatch} allowed): the alignment does not fit the audio"
        )
    if diff > 0:
        return labels[:num_frames]
    if diff < 0:
        if not labels:
            raise LabelLengthError(f"utterance {uttid}: empty label sequence")
        return labels + [labels[-1]] * (-diff)
    return labels


def labels_at_feature_rate(
    batch_labels: Sequence[Sequence[int]],
    lengths: torch.Tensor,
    factor: int,
    uttids: Sequence[str],
    max_mismatch: int = MAX_MISMATCH,
) -> torch.Tensor:
    """A batch's 10 ms frame labels (:mod:`aalbert.corpus.frames`) brought to an upstream that stacks
    ``factor`` frames, with ``lengths`` features per utterance: a padded (B, T) label tensor whose
    padding frames hold ``IGNORE_INDEX``."""
    frame_counts = [int(n) for n in lengths]
    out = torch.full((len(frame_counts), max(frame_counts, default=0)), IGNORE_INDEX, dtype=torch.long)
    for i, (labels, n, uttid) in enumerate(zip(batch_labels, frame_counts, uttids)):
        fitted = reconcile_length(stack_labels(labels, factor), n, uttid, max_mismatch)
        out[i, :n] = torch.tensor(fitted, dtype=torch.long)
    return out


def phone_sequence(labels: Sequence[int], silence: set[int]) -> list[int]:
    """Frame labels -> phone sequence: repeats merged, silence dropped (CTC targets)."""
    seq: list[int] = []
    previous = None
    for label in labels:
        if label != previous and label not in silence:
            seq.append(label)
        previous = label
    return seq
