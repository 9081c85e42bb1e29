"""Utterance pooling: a padded (B, T, D) batch of frames -> one (B, D') vector per utterance.

Padding frames never count: their values depend on the batch, not on the utterance.
"""

from __future__ import annotations

import torch
from torch import nn

from aalbert.errors import BadInputError
from aalbert.padding import valid_mask

POOLINGS = ("mean", "attentive")


class MeanPooling(nn.Module):
    """Mean of the valid frames; output size = input size."""

    def __init__(self, input_dim: int):
        super().__init__()
        self.output_dim = input_dim

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(lengths, features.shape[1]).unsqueeze(-1).to(features.dtype)
        return (features * mask).sum(1) / mask.sum(1).clamp(min=1)


class AttentiveStatisticsPooling(nn.Module):
    """Attention-weighted mean and standard deviation of the frames (Okabe et al., 2018):
    a small scorer weighs each frame, so the frames that carry the label count most.
    Output size = 2 x input size."""

    def __init__(self, input_dim: int, attention_dim: int = 128):
        super().__init__()
        self.scorer = nn.Sequential(nn.Linear(input_dim, attention_dim), nn.Tanh(), nn.Linear(attention_dim, 1))
        self.output_dim = 2 * input_dim

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mask = valid_mask(lengths, features.shape[1])
        scores = self.scorer(features).squeeze(-1).masked_fill(~mask, float("-inf"))
        weights = torch.softmax(scores, dim=1).unsqueeze(-1)  # (B, T, 1), 0 on padding
        mean = (weights * features).sum(1)
        variance = (weights * (features - mean.unsqueeze(1)).pow(2)).sum(1)
        return torch.cat([mean, variance.clamp(min=1e-6).sqrt()], dim=-1)


def make_pooling(kind: str, input_dim: int) -> nn.Module:
    if kind == "mean":
        return MeanPooling(input_dim)
    if kind == "attentive":
        return AttentiveStatisticsPooling(input_dim)
    raise BadInputError(f"model.pooling must be one of {', '.join(POOLINGS)}, got {kind!r}")
