"""Generated corpora and a toy upstream for the analysis tests (imported by conftest.py and the tests)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import torch
from torch import nn

SR = 16000
PHONES = ["sil", "aa", "iy", "s"]
PHONE_TONES = {1: 600.0, 2: 1500.0, 3: 3000.0}   # Hz; silence has no tone
SPEAKER_TONES = [4200.0, 5400.0, 6600.0]         # a constant extra tone tells speakers apart


def write_tone_corpus(root: Path, speakers: int = 3, utterances: int = 10, seed: int = 0) -> Path:
    """LibriSpeech layout (``SPK-CH-UTT.flac``) + s3prl alignment (one phone id per 10 ms frame).

    Phones are tones and each speaker adds its own constant tone, so both the phone and the
    speaker are easy to read off the spectrum: probes must learn them quickly.
    """
    rng = np.random.default_rng(seed)
    lines = []
    for s in range(speakers):
        spk = str(200 + s)
        folder = root / "tiny" / spk / "3"
        folder.mkdir(parents=True, exist_ok=True)
        for u in range(utterances):
            uttid = f"{spk}-3-{u:04d}"
            segments = [0] + list(rng.integers(1, len(PHONES), size=3)) + [0]
            wave, phone_of_sample = [], []
            for phone in segments:
                n = int(rng.integers(1200, 2400))  # 75..150 ms
                t = np.arange(n) / SR
                x = 0.01 * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * SPEAKER_TONES[s] * t)
                if phone:
                    x += 0.5 * np.sin(2 * np.pi * PHONE_TONES[int(phone)] * t)
                wave.append(x)
                phone_of_sample += [int(phone)] * n
            wave = np.concatenate(wave).astype(np.float32)
            soundfile.write(folder / f"{uttid}.flac", wave, SR)
            frames = -(-len(wave) // 160)
            labels = [phone_of_sample[min(160 * i + 80, len(wave) - 1)] for i in range(frames)]
            lines.append(uttid + " " + " ".join(map(str, labels)))
    align = root / "alignment"
    align.mkdir(exist_ok=True)
    (align / "converted_aligned_phones.txt").write_text("\n".join(lines) + "\n")
    (align / "phones.txt").write_text("".join(f"{i} {p}\n" for i, p in enumerate(PHONES)))
    return root


class ToyUpstream(nn.Module):
    """Upstream contract without CMVN: log-mel, then ``num_layers`` fixed random tanh layers.

    Per-utterance CMVN (the real upstreams' input) removes a constant speaker tone from the
    utterance mean, which would leave a speaker probe nothing to find on random weights; this
    keeps it. ``calls`` counts forward passes, so tests can check the upstream runs once.
    """

    def __init__(self, num_layers: int = 2, hidden_size: int = 24, seed: int = 0):
        super().__init__()
        from aalbert.upstream.features import FeatureConfig, FeatureExtractor, FeatureSpec

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
