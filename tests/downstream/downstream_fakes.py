"""Small generated corpora and a tiny upstream obeying the Upstream contract, for tests.

Imported by conftest.py and by scripts run in subprocesses (DDP, plugin tests).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import torch
from torch import nn

SR = 16000
PHONES = ["sil", "aa", "iy", "s", "m"]
PHONE_TONES = {1: 500.0, 2: 1100.0, 3: 1900.0, 4: 2900.0}   # Hz; silence has no tone
SPEAKER_TONES = [3600.0, 5000.0, 6600.0]                   # a constant "voice" tone per speaker


def make_tone_corpus(root: Path, speakers: int = 3, utterances: int = 10, seed: int = 0,
                     unaligned: tuple[str, ...] = ()) -> Path:
    """LibriSpeech layout; phones are tones, speakers differ by a constant extra tone.

    Writes ``alignment/converted_aligned_phones.txt`` + ``alignment/phones.txt`` (s3prl's
    format, one label per 10 ms frame, labelled at the frame centre) leaving out ``unaligned``.
    """
    rng = np.random.default_rng(seed)
    lines = []
    for s in range(speakers):
        spk = str(100 + s)
        folder = root / "train-tiny" / spk / "7"
        folder.mkdir(parents=True, exist_ok=True)
        for u in range(utterances):
            uttid = f"{spk}-7-{u:04d}"
            segs = [0] + list(rng.integers(1, len(PHONES), size=5)) + [0]
            durs = rng.integers(1200, 2800, size=len(segs))  # 75..175 ms
            wave, seg_of_sample = [], []
            for k, (ph, n) in enumerate(zip(segs, durs)):
                t = np.arange(n) / SR
                x = 0.02 * rng.standard_normal(n)
                if ph:
                    x += 0.5 * np.sin(2 * np.pi * PHONE_TONES[ph] * t + rng.uniform(0, 6))
                x += 0.2 * np.sin(2 * np.pi * SPEAKER_TONES[s % len(SPEAKER_TONES)] * t)
                wave.append(x)
                seg_of_sample += [ph] * n
            wave = np.concatenate(wave).astype(np.float32)
            soundfile.write(folder / f"{uttid}.flac", wave, SR)
            n_frames = -(-len(wave) // 160)
            labels = [seg_of_sample[min(160 * i + 80, len(wave) - 1)] for i in range(n_frames)]
            if uttid not in unaligned:
                lines.append(uttid + " " + " ".join(map(str, labels)))
    align = root / "alignment"
    align.mkdir(exist_ok=True)
    (align / "converted_aligned_phones.txt").write_text("\n".join(lines) + "\n")
    (align / "phones.txt").write_text("".join(f"{i} {p}\n" for i, p in enumerate(PHONES)))
    return root


class FakeUpstream(nn.Module):
    """Log band energies (32 bands, 10 ms hop) -> projection -> ``num_layers`` tanh layers."""

    def __init__(self, hidden_size: int = 32, num_layers: int = 2, stacking: int = 1, seed: int = 0):
        super().__init__()
        torch.manual_seed(seed)
        self.hidden_size, self.num_layers, self.stacking = hidden_size, num_layers, stacking
        self.downsample_rate = 160 * stacking
        self.name = "fake"
        self.proj = nn.Linear(32 * stacking, hidden_size)
        self.layers = nn.ModuleList(nn.Linear(hidden_size, hidden_size) for _ in range(num_layers))
        self.drop = nn.Dropout(0.1)

    def _bands(self, wav: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(wav, 320, 160, window=torch.hann_window(320, device=wav.device),
                          return_complex=True).abs().pow(2)           # (161, T), T = 1 + n // 160
        bands = spec[:160].reshape(32, 5, -1).mean(1)
        return torch.log(bands + 1e-6).T                             # (T, 32)

    def forward(self, wavs: list[torch.Tensor]) -> dict:
        feats = [self._bands(w) for w in wavs]
        k = self.stacking
        lengths = torch.tensor([-(-f.shape[0] // k) for f in feats])
        T = int(lengths.max())
        x = torch.zeros(len(feats), T * k, 32)
        for i, f in enumerate(feats):
            x[i, :f.shape[0]] = f
        x = x.reshape(len(feats), T, 32 * k)
        h = self.drop(self.proj(x))
        hidden = [h]
        for layer in self.layers:
            h = torch.tanh(layer(h))
            hidden.append(h)
        return {"hidden_states": hidden, "last_hidden_state": hidden[-1], "lengths": lengths}
