"""Reconstruction loss of the masked acoustic model.

The prediction head is applied only to the frames that are scored (``MaskedAcousticModel``), so
with the default 15 % masking the head costs a seventh of running it on every frame, and the
L1 needs no masked_select over a full (B, T, D) tensor.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def scored_frames(mask: Tensor, valid: Tensor, loss_on: str) -> Tensor:
    """(B, T) bool: the frames the loss is computed on (masked ones, or every valid one)."""
    if loss_on == "masked":
        return mask & valid
    if loss_on == "all":
        return valid
    raise ValueError(f"loss_on must be 'masked' or 'all', got {loss_on!r}")


def l1_loss(pred: Tensor, target: Tensor) -> Tensor:
    """Mean absolute error over every element of the selected frames (s3prl's ``nn.L1Loss``)."""
    if pred.numel() == 0:
        raise ValueError("no frame to score: the mask selected no valid frame")
    return F.l1_loss(pred.float(), target.float())
