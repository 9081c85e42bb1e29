"""Masked acoustic model corruption: span masks and the 80/10/10 input corruption.

Pure functions of their inputs and a ``torch.Generator``, so a batch's masks are re-drawn every
step yet reproducible from the generator state (saved in checkpoints for exact resume).

Span masks: each utterance with ``L`` valid frames gets ``n = max(1, round(L * p / C))``
non-overlapping spans of ``C`` frames, so exactly ``n * C`` (about ``p * L``) valid frames are
masked and padding never is. Distinct, non-overlapping spans are drawn without rejection: pick
``n`` distinct positions among ``L - n * (C - 1)`` and shift the ``i``-th smallest by
``i * (C - 1)``. Short utterances (``L * p < C / 2``) get one span of ``max(1, round(L * p))``
frames instead (see ``span_counts``).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from aalbert.padding import valid_mask


class MaskedBatch(NamedTuple):
    inputs: Tensor  # (B, T, D) corrupted inputs
    mask: Tensor  # (B, T) bool, True = masked (always a valid frame)
    mode: Tensor  # (B,) long: 0 zeroed, 1 random frames, 2 unchanged


def span_counts(lengths: Tensor, proportion: float, span: int) -> tuple[Tensor, Tensor]:
    """(spans per utterance, span length per utterance) for valid lengths ``lengths`` (B,).

    ``n = round(L * p / C)`` full spans; where that rounds to zero (``L * p < C / 2``, short
    utterances) one shorter span of ``max(1, round(L * p))`` frames instead, so every utterance
    has something to predict without masking most of it.
    """
    lengths = lengths.long()
    n = torch.round(lengths.double() * proportion / span).long()
    short = n == 0
    short_width = torch.clamp(torch.round(lengths.double() * proportion).long(), min=1)
    n = torch.where(short, torch.ones_like(n), n)
    width = torch.where(short, short_width, torch.full_like(n, span))
    # never more spans than fit side by side (only bites for mask proportions above 0.5)
    n = torch.minimum(n, torch.div(lengths, width, rounding_mode="floor").clamp(min=1))
    return n, width


def sample_span_mask(
    lengths: Tensor, max_len: int, proportion: float, span: int, generator: torch.Generator | None = None
) -> Tensor:
    """(B, max_len) bool mask of non-overlapping spans inside each utterance's valid frames."""
    if (lengths < 1).any():
        raise ValueError(f"every utterance needs at least one valid frame, got lengths {lengths.tolist()}")
    if int(lengths.max()) > max_len:
        raise ValueError(f"a length ({int(lengths.max())}) exceeds max_len ({max_len})")
    device = lengths.device
    lengths = lengths.long()
    B = lengths.numel()
    n, width = span_counts(lengths, proportion, span)
    # slots: positions a span may start at once the (width - 1) tails are squeezed out
    slots = lengths - n * (width - 1)
    keys = torch.rand(B, max_len, generator=generator, device=generator.device if generator else None).to(device)
    positions = torch.arange(max_len, device=device)[None, :]
    keys = keys.masked_fill(positions >= slots[:, None], 2.0)  # never pick a slot beyond the range
    # the n smallest keys of each row are a uniform draw of n distinct slots
    ranks = keys.argsort(dim=1).argsort(dim=1)
    chosen = ranks < n[:, None]
    order = chosen.long().cumsum(dim=1) - 1  # i: rank of the chosen slot among the chosen, ascending
    starts = positions + order * (width[:, None] - 1)
    # difference array: +1 at each start, -1 one past each end, cumulative sum > 0 inside spans
    delta = torch.zeros(B, max_len + 1, dtype=torch.long, device=device)
    rows = torch.arange(B, device=device)[:, None].expand_as(starts)
    delta.index_put_((rows[chosen], starts[chosen]), torch.ones_like(starts[chosen]), accumulate=True)
    ends = (starts + width[:, None])[chosen]
    delta.index_put_((rows[chosen], ends), -torch.ones_like(ends), accumulate=True)
    return delta.cumsum(dim=1)[:, :max_len] > 0


def corrupt(
    inputs: Tensor,
    lengths: Tensor,
    mask: Tensor,
    zero_prob: float = 0.8,
    random_prob: float = 0.1,
    generator: torch.Generator | None = None,
) -> MaskedBatch:
    """Apply the per-utterance 80/10/10 rule to the masked frames of ``inputs`` (B, T, D).

    Random replacements are valid frames drawn uniformly from the whole batch.
    """
    B, T, _ = inputs.shape
    gen_device = generator.device if generator is not None else None
    dice = torch.rand(B, generator=generator, device=gen_device).to(inputs.device)
    mode = torch.full((B,), 2, dtype=torch.long, device=inputs.device)
    mode = torch.where(dice < zero_prob + random_prob, torch.ones_like(mode), mode)
    mode = torch.where(dice < zero_prob, torch.zeros_like(mode), mode)
    # always draw the replacement indices, so the generator advances the same way whatever the dice say
    valid_flat = valid_mask(lengths.to(inputs.device), T).reshape(-1).nonzero().squeeze(1)
    picks = torch.randint(valid_flat.numel(), (B, T), generator=generator, device=gen_device).to(inputs.device)
    random_frames = inputs.reshape(B * T, -1)[valid_flat[picks]]  # (B, T, D)
    out = inputs.clone()
    zero = mask & (mode == 0)[:, None]
    rand = mask & (mode == 1)[:, None]
    out = out.masked_fill(zero[..., None], 0.0)
    out = torch.where(rand[..., None], random_frames, out)
    return MaskedBatch(out, mask, mode)


def mask_batch(
    inputs: Tensor,
    lengths: Tensor,
    proportion: float,
    span: int,
    generator: torch.Generator | None = None,
    **probs: float,
) -> MaskedBatch:
    """Span mask + 80/10/10 corruption for a (B, T, D) batch with valid ``lengths`` (B,);
    ``probs``: ``zero_prob`` / ``random_prob`` of :func:`corrupt`."""
    mask = sample_span_mask(lengths, inputs.size(1), proportion, span, generator)
    return corrupt(inputs, lengths, mask, generator=generator, **probs)
