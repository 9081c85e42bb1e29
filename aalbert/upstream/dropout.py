"""Dropout for training the encoder on CPU: cheaper random masks and an attention core with fewer passes.

Profiling a pretraining step on CPU (benchmarks/bench_pretrain.py --profile) showed, after the
matrix products, the dropout on attention probabilities as the largest cost: torch's CPU
``bernoulli_`` draws one number per entry serially (its parallel MKL path is taken on Intel CPUs
only), and autograd's masked_fill / softmax backward allocate a fresh (B, heads, T, T) tensor at
every step, each page of which the kernel must fault in and zero again. Here:

* ``dropout_mask``: the mask from numpy's PCG64 raw 32-bit words compared with ``p * 2**32``
  (an i.i.d. Bernoulli draw with the probability exact to 2**-33), seeded from torch's default
  generator, so ``torch.manual_seed`` and the checkpoints' RNG states (exact resume) govern it.
* ``Dropout``: nn.Dropout with that mask on CPU (same module type, no state).
* ``dropout_attention``: softmax attention with dropped probabilities as one autograd function
  whose backward works in place: three (T, T)-sized allocations per attention instead of six.

On other devices the torch kernels are used (CUDA has a fused SDPA with dropout).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn


def dropout_mask(shape: tuple[int, ...], p: float, device: torch.device | None = None) -> Tensor:
    """Bool tensor, True (dropped) with probability ``p`` independently per entry."""
    if device is not None and torch.device(device).type != "cpu":
        return torch.empty(shape, dtype=torch.bool, device=device).bernoulli_(p)
    if p >= 1:
        return torch.ones(shape, dtype=torch.bool)
    n = math.prod(shape)
    seed = int(torch.randint(0, 2**63 - 1, (), dtype=torch.int64))  # from torch's (checkpointed) RNG
    words = np.random.Generator(np.random.PCG64(seed)).bit_generator.random_raw((n + 1) // 2)
    dropped = words.view(np.uint32)[:n] < np.uint32(min(round(p * 2**32), 2**32 - 1))
    return torch.from_numpy(dropped).view(shape)


class Dropout(nn.Dropout):
    """nn.Dropout whose CPU training mask comes from ``dropout_mask`` (a serial torch draw otherwise)."""

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or not 0 < self.p < 1 or x.device.type != "cpu":
            return super().forward(x)
        dropped = dropout_mask(tuple(x.shape), self.p)
        scale = torch.where(dropped, torch.zeros((), dtype=x.dtype), torch.full((), 1 / (1 - self.p), dtype=x.dtype))
        return x * scale


class _DroppedAttention(torch.autograd.Function):
    """softmax(q k^T + mask) with entries ``dropped`` zeroed, times v; q already scaled, v already
    divided by (1 - p). Backward reuses its own buffers: the gradient of the dropped probabilities is
    masked and turned into the gradient of the scores in place."""

    @staticmethod
    def forward(ctx, q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, dropped: Tensor) -> Tensor:
        scores = torch.matmul(q, k.transpose(-1, -2))
        if mask is not None:
            scores.masked_fill_(~mask, float("-inf"))
        probs = torch.softmax(scores, dim=-1)
        del scores
        kept = torch.where(dropped, torch.zeros((), dtype=probs.dtype), probs)
        ctx.save_for_backward(q, k, v, probs, kept, dropped)
        return torch.matmul(kept, v)

    @staticmethod
    def backward(ctx, grad: Tensor):
        q, k, v, probs, kept, dropped = ctx.saved_tensors
        grad_v = torch.matmul(kept.transpose(-1, -2), grad)
        del kept
        grad_scores = torch.matmul(grad, v.transpose(-1, -2)).masked_fill_(dropped, 0.0)
        # softmax backward, in place: probs * (g - sum(g * probs)) per row
        torch.ops.aten._softmax_backward_data.out(grad_scores, probs, -1, probs.dtype, grad_input=grad_scores)
        return torch.matmul(grad_scores, k), torch.matmul(grad_scores.transpose(-1, -2), q), grad_v, None, None


def dropout_attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None, p: float) -> Tensor:
    """softmax(q k^T / sqrt(d)) with dropout ``p`` on the probabilities, times v: SDPA's result in training.

    ``mask``: boolean key mask broadcastable to (B, heads, Tq, T), True = attend. On CPU, SDPA with
    dropout has no fused kernel: its math fallback adds a safe softmax (checks for fully masked rows,
    impossible here), scales q and k separately and draws a float noise tensor that it rescales in a
    pass of its own. Here the scale is folded into q, 1 / (1 - p) into v ((T, d), not (T, T)), and
    the dropped entries are one boolean draw (``dropout_mask``).
    """
    q = q * (1.0 / math.sqrt(q.size(-1)))
    v = v * (1.0 / (1.0 - p))
    dropped = dropout_mask((*q.shape[:-1], k.size(-2)), p, q.device)
    if q.device.type != "cpu" or torch.is_autocast_enabled(q.device.type):  # the function is fp32, CPU
        scores = q @ k.transpose(-1, -2)
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        return scores.softmax(dim=-1).masked_fill(dropped, 0.0) @ v
    return _DroppedAttention.apply(q, k, v, mask, dropped)
