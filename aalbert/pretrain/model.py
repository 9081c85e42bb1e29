"""Encoder + spectrogram prediction head as one module (what DDP wraps)."""

from __future__ import annotations

from torch import Tensor, nn

from aalbert.upstream.model import SpecPredictionHead, TransformerEncoder


class MaskedAcousticModel(nn.Module):
    def __init__(self, encoder: TransformerEncoder, head: SpecPredictionHead):
        super().__init__()
        self.encoder = encoder
        self.head = head

    def forward(
        self, inputs: Tensor, lengths: Tensor, frames: Tensor, keep_hidden: bool = False
    ) -> tuple[Tensor, Tensor | None]:
        """Predictions (N, target_dim * stacking) for the (B, T') ``frames`` selected, and the last
        hidden state (B, T', H) when ``keep_hidden`` (else None).

        ``inputs`` (B, T, D) unstacked, ``lengths`` (B,) unstacked. Only the scored frames go
        through the head, and (unless ``keep_hidden``) through the last layer's queries, output
        and feed-forward: both work frame by frame, so this is exact and saves their cost elsewhere
        (TransformerEncoder.last_hidden_at).
        """
        if not keep_hidden:
            return self.head(self.encoder.last_hidden_at(inputs, lengths, frames)), None
        hidden = self.encoder(inputs, lengths).hidden_states[-1]
        return self.head(hidden[frames]), hidden
