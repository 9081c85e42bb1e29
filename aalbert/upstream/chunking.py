"""Long inputs forwarded in pieces, as s3prl forwards them.

s3prl's Mockingjay / Audio ALBERT upstream never attends over more than ``task.sequence_length``
frames (the pretraining crop length): a longer input is cut into ``ceil(T / sequence_length)``
pieces with ``torch.chunk`` (pieces of ``ceil(T / n)`` frames, the last one shorter), each
forwarded with its own positions and attention, and the outputs are concatenated.

s3prl counts T on the padded batch, so an utterance's output depends on its batch mates. Here
each utterance is cut by its own length: it gets the pieces it would get alone, and the pieces
of a whole batch are forwarded together as one padded batch of pieces.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor


class ChunkPlan(NamedTuple):
    utterance: Tensor  # (C,) the utterance each piece is cut from
    start: Tensor  # (C,) its first frame
    length: Tensor  # (C,) its number of frames

    @property
    def max_length(self) -> int:
        return int(self.length.max())


def plan_chunks(lengths: Tensor, max_length: int) -> ChunkPlan | None:
    """The pieces of every utterance longer than ``max_length`` frames; None when none is."""
    if max_length <= 0 or int(lengths.max()) <= max_length:
        return None
    utterance, start, length = [], [], []
    for i, total in enumerate(lengths.tolist()):
        pieces = math.ceil(total / max_length) if total > max_length else 1
        size = math.ceil(total / pieces) if total else 1
        for first in range(0, max(total, 1), size):  # torch.chunk's cut points
            utterance.append(i)
            start.append(first)
            length.append(min(size, total - first))
    device = lengths.device
    return ChunkPlan(
        torch.tensor(utterance, device=device), torch.tensor(start, device=device), torch.tensor(length, device=device)
    )


def _frame_index(plan: ChunkPlan) -> tuple[Tensor, Tensor]:
    """(C, L) source frame of every piece position, and which positions are real frames."""
    offsets = torch.arange(plan.max_length, device=plan.start.device)[None, :]
    valid = offsets < plan.length[:, None]
    return (plan.start[:, None] + offsets) * valid, valid


def cut(feats: Tensor, plan: ChunkPlan) -> Tensor:
    """(B, T, D) -> (C, L, D): the pieces, zero-padded."""
    index, valid = _frame_index(plan)
    pieces = feats[plan.utterance[:, None], index]
    return pieces * valid[..., None].to(pieces.dtype)


def join(pieces: Tensor, plan: ChunkPlan, like: Tensor) -> Tensor:
    """(C, L, H) -> (B, T, H) shaped like ``like`` (B, T, *): each piece back in its place."""
    index, valid = _frame_index(plan)
    out = pieces.new_zeros(like.size(0), like.size(1), pieces.size(-1))
    rows = plan.utterance[:, None].expand_as(index)
    out[rows[valid], index[valid]] = pieces[valid]
    return out


def join_attentions(probs: Tensor, plan: ChunkPlan, batch: int, frames: int) -> Tensor:
    """(C, heads, L, L) -> (B, heads, T, T): block diagonal, each query attends within its piece."""
    out = probs.new_zeros(batch, probs.size(1), frames, frames)
    for c, (i, first, n) in enumerate(zip(plan.utterance.tolist(), plan.start.tolist(), plan.length.tolist())):
        out[i, :, first : first + n, first : first + n] = probs[c, :, :n, :n]
    return out
