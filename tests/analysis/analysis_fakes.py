"""A toy upstream for the analysis tests (imported by conftest.py and the tests)."""

from __future__ import annotations

import torch
from torch import nn


class ToyUpstream(nn.Module):
    """Upstream contract without CMVN: log-mel, then ``num_layers`` fixed random tanh layers.

    Per-utterance CMVN (the real upstreams' input) removes a constant speaker tone from the
    utterance mean, which would leave a speaker probe nothing to find on random weights; this
    keeps it. ``calls`` counts forward passes, so tests can check the upstream runs once.
    """

    def __init__(self, num_layers: int = 2, hidden_size: int = 24, seed: int = 0):
        super().__init__()
        from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
        from aalbert.upstream.features import FeatureExtractor

        torch.manual_seed(seed)
        self.features = FeatureExtractor(FeatureConfig(input=FeatureSpec("mel", cmvn=False), target=None))
        self.proj = nn.Linear(self.features.input_dim, hidden_size)
        self.layers = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(num_layers))
        self.name, self.hidden_size, self.num_layers, self.downsample_rate = "toy", hidden_size, num_layers, 160
        self.calls = 0

    def forward(self, wavs, output_attentions: bool = False) -> dict:
        self.calls += 1
        feats = self.features(wavs)
        x = self.proj(feats.inputs / 10)
        hidden = [x]
        for layer in self.layers:
            x = torch.tanh(layer(x))
            hidden.append(x)
        return {"hidden_states": hidden, "last_hidden_state": x, "lengths": feats.lengths}


class OneLayerKnows(ToyUpstream):
    """ToyUpstream whose hidden state ``informative`` alone depends on the audio: it is the log-mel
    projection (phones and speakers are easy to read from it); every other hidden state is noise
    drawn independently of the audio. A probe of hidden state L learns only if it was given hidden state L.
    """

    def __init__(self, informative: int, num_layers: int = 2, hidden_size: int = 24):
        super().__init__(num_layers, hidden_size)
        self.informative = informative
        self.noise = torch.Generator().manual_seed(1)

    def forward(self, wavs, output_attentions: bool = False) -> dict:
        out = super().forward(wavs)
        signal = out["hidden_states"][0]
        hidden = [torch.randn(signal.shape, generator=self.noise) for _ in out["hidden_states"]]
        hidden[self.informative] = signal
        return {**out, "hidden_states": hidden, "last_hidden_state": hidden[-1]}
