"""A tiny random upstream obeying the Upstream contract (hidden_states, lengths, downsample_rate).

Log energies in 32 frequency bands (10 ms hop) -> a random projection -> ``num_layers`` tanh
layers: cheap on CPU, and the bands keep tones apart, so heads trained on it learn in a few steps.
"""

from __future__ import annotations

import torch
from torch import nn

from aalbert.audio_rate import HOP_SAMPLES


class TinyUpstream(nn.Module):
    """Log band energies (32 bands, 10 ms hop) -> projection -> ``num_layers`` tanh layers."""

    def __init__(self, hidden_size: int = 32, num_layers: int = 2, stacking: int = 1, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.hidden_size, self.num_layers, self.stacking = hidden_size, num_layers, stacking
        self.downsample_rate = HOP_SAMPLES * stacking
        self.name = "tiny"
        self.proj = nn.Linear(32 * stacking, hidden_size)
        self.layers = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(num_layers))
        self.drop = nn.Dropout(0.1)

    def _bands(self, wav: torch.Tensor) -> torch.Tensor:
        spec = (
            torch.stft(wav, 320, HOP_SAMPLES, window=torch.hann_window(320, device=wav.device), return_complex=True)
            .abs()
            .pow(2)
        )  # (161, T), T = 1 + n // HOP_SAMPLES: the label frames
        bands = spec[:160].reshape(32, 5, -1).mean(1)  # 160 of the 161 frequency bins, 5 to a band
        return torch.log(bands + 1e-6).T  # (T, 32)

    def forward(self, wavs: list[torch.Tensor]) -> dict:
        feats = [self._bands(w) for w in wavs]
        k = self.stacking
        lengths = torch.tensor([-(-f.shape[0] // k) for f in feats])
        T = int(lengths.max())
        x = torch.zeros(len(feats), T * k, 32)
        for i, f in enumerate(feats):
            x[i, : f.shape[0]] = f
        x = x.reshape(len(feats), T, 32 * k)
        h = self.drop(self.proj(x))
        hidden = [h]
        for layer in self.layers:
            h = torch.tanh(layer(h))
            hidden.append(h)
        return {"hidden_states": hidden, "last_hidden_state": hidden[-1], "lengths": lengths}
