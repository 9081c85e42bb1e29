"""Encoder + spectrogram prediction head as one module (what DDP wraps)."""

from __future__ import annotations

from torch import Tensor, nn

from aalbert.upstream.model import SpecPredictionHead, TransformerEncoder


class MaskedAcousticModel(nn.Module):
    def __init__(self, encoder: TransformerEncoder, head: SpecPredictionHead):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(self, inputs: Tensor, lengths: Tensor, frames: Tensor) -> tuple[Tensor, Tensor]:
        """Predictions (N, target_dim * stacking) for the (B, T') ``frames`` selected, and the last hidden state.

        ``inputs`` (B, T, D) unstacked, ``lengths`` (B,) unstacked. Only the scored frames go
        through the head: it works frame by frame, so this is exact and saves its cost elsewhere.
        """
        hidden = self.encoder(inputs, lengths).hidden_states[-1]
        return self.head(hidden[frames]), hidden
