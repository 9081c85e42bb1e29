"""Padded batches: which frames of a (B, T, ...) batch belong to an utterance.

Upstream features, the encoder's attention, pretraining's masking and loss, and the downstream
heads all pad utterances of different lengths to one ``T``; this is the one test of which
frames are real.
"""

from __future__ import annotations

import torch
from torch import Tensor


def valid_mask(lengths: Tensor, max_len: int) -> Tensor:
    """(B, max_len) bool: True on each utterance's first ``lengths[b]`` frames (on ``lengths``' device)."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]
