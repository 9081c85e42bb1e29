"""Jensen-Shannon divergence between the attention distributions of two layers.

Natural log throughout, so every value lies in [0, ln 2] (about 0.693); divide by ``LN2`` for
bits. For one query position and one head, layer a's attention row ``p`` and layer b's row
``q`` are distributions over the same keys, and

    JSD(p, q) = H(m) - (H(p) + H(q)) / 2,    m = (p + q) / 2,    H(x) = -sum x ln x

(0 ln 0 = 0). Written with entropies, each layer's entropy is computed once and only ``H(m)``
is needed per pair of layers. An utterance's score for a pair of layers is the mean over
heads and over its valid query positions; padded frames are dropped as queries *and* as keys
(sliced away, so nothing depends on what the padding holds). Utterances are combined with
weights equal to their number of valid queries: ``JSDAccumulator`` keeps the weighted sums.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

LN2 = math.log(2.0)


def entropy(p: Tensor, dim: int = -1) -> Tensor:
    """Shannon entropy (nats) along ``dim``; zero-probability entries contribute 0."""
    return -torch.special.xlogy(p, p).sum(dim)


def jsd(p: Tensor, q: Tensor, dim: int = -1) -> Tensor:
    """JSD (nats) between distributions ``p`` and ``q`` along ``dim``, broadcasting the rest.

    Clamped at 0: in floating point ``H(m)`` can undershoot the mean entropy by rounding.
    """
    if p.shape != q.shape:
        raise ValueError(f"distributions must have the same shape, got {tuple(p.shape)} and {tuple(q.shape)}")
    return _jsd_from_entropies(p, q, entropy(p, dim), entropy(q, dim), dim)


def _jsd_from_entropies(p: Tensor, q: Tensor, h_p: Tensor, h_q: Tensor, dim: int = -1) -> Tensor:
    return (entropy((p + q) / 2, dim) - (h_p + h_q) / 2).clamp(min=0.0)


def utterance_jsd_sums(attentions: Sequence[Tensor]) -> Tensor:
    """(L, L) sums over valid queries of the head-mean JSD, for one utterance.

    ``attentions``: one (heads, T, T) tensor per layer, already cut to the valid frames.
    Divide by ``T`` for this utterance's mean; keep the sums to pool utterances by length.
    Computed in float64: entropies of long rows lose digits in float32, and JSD is their
    small difference.
    """
    num_layers = len(attentions)
    if num_layers == 0:
        raise ValueError("no attention maps given: the upstream has no layers")
    shape = attentions[0].shape
    if len(shape) != 3 or shape[1] != shape[2]:
        raise ValueError(f"expected (heads, T, T) attention per layer, got {tuple(shape)}")
    for i, layer in enumerate(attentions):
        if layer.shape != shape:
            raise ValueError(f"layer {i}: attention shape {tuple(layer.shape)} differs from layer 0's {tuple(shape)}")
    # one layer in float64 at a time for the entropies; pairs are upcast only while in use
    entropies = [entropy(a.double()) for a in attentions]  # L x (heads, T)
    sums = torch.zeros(num_layers, num_layers, dtype=torch.float64)
    for a in range(num_layers):
        pa = attentions[a].double()
        for b in range(a + 1, num_layers):
            d = _jsd_from_entropies(pa, attentions[b].double(), entropies[a], entropies[b])  # (heads, T)
            sums[a, b] = sums[b, a] = d.mean(0).sum().cpu()
    return sums


class JSDAccumulator:
    """Pools per-utterance JSD matrices, weighting each utterance by its valid queries."""

    def __init__(self, num_layers: int):
        if num_layers < 1:
            raise ValueError(f"attention JSD needs an upstream with at least one layer, got {num_layers}")
        self.num_layers = num_layers
        self.sums = torch.zeros(num_layers, num_layers, dtype=torch.float64)
        self.queries = 0
        self.utterances = 0

    def add_batch(self, attentions: Sequence[Tensor], lengths: Tensor) -> None:
        """``attentions``: L tensors (B, heads, T, T) of a padded batch; ``lengths`` (B,) valid frames."""
        if len(attentions) != self.num_layers:
            raise ValueError(f"expected attention maps of {self.num_layers} layers, got {len(attentions)}")
        valid_frames = [int(n) for n in lengths]
        batch, _, max_len, _ = attentions[0].shape
        if len(valid_frames) != batch:
            raise ValueError(f"{len(valid_frames)} lengths for a batch of {batch} utterances")
        for i, n in enumerate(valid_frames):
            if not 0 < n <= max_len:
                raise ValueError(f"utterance {i}: length {n} outside 1..{max_len} frames")
            self.sums += utterance_jsd_sums([a[i, :, :n, :n] for a in attentions])
            self.queries += n
            self.utterances += 1

    def matrix(self) -> Tensor:
        """(L, L) mean JSD in nats: symmetric, zero diagonal, entries in [0, ln 2]."""
        if self.queries == 0:
            raise ValueError("no utterances were added")
        return self.sums / self.queries
