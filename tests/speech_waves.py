"""Deterministic speech-like test waves (a plain module, importable from any test folder).

``conftest`` modules cannot be imported by name when several test folders have one, so the
generator lives here and tests/conftest.py wraps it in a fixture.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

SR = 16000


def make_speech_like(seconds: float, seed: int = 0) -> torch.Tensor:
    """A deterministic voiced-speech-like wave (float32, 16 kHz): gliding harmonics with formant
    weights, a syllable-rate envelope, a near-silent pause and a little noise."""
    gen = torch.Generator().manual_seed(seed)
    n = int(seconds * SR)
    t = torch.arange(n, dtype=torch.float64) / SR
    f0 = 100 + 15 * seed + 30 * torch.sin(2 * math.pi * 0.5 * t)
    phase = 2 * math.pi * torch.cumsum(f0, 0) / SR
    wave = torch.zeros(n, dtype=torch.float64)
    for h in range(1, 25):
        freq = h * 120.0
        wave += (
            math.exp(-(((freq - 600) / 400) ** 2)) + 0.4 * math.exp(-(((freq - 1700) / 500) ** 2)) + 0.02
        ) * torch.sin(h * phase)
    wave *= 0.4 + 0.6 * torch.sin(2 * math.pi * 4 * t).clamp(min=0)
    wave = 0.2 * wave / wave.abs().max().clamp(min=1e-9)
    wave += 0.002 * torch.randn(n, generator=gen, dtype=torch.float64)
    wave[n // 2 : n // 2 + n // 10] *= 0.02
    return wave.float()


REAL_SPEECH = sorted((Path(__file__).parent / "fixtures" / "librispeech").glob("*.flac"))


def load_real_speech() -> list[torch.Tensor]:
    """The two real LibriSpeech utterances shipped in tests/fixtures/librispeech (2.4 s, 2.0 s)."""
    from aalbert.audio import load_audio

    assert len(REAL_SPEECH) == 2, f"tests/fixtures/librispeech should hold 2 FLAC files, found {REAL_SPEECH}"
    return [load_audio(p) for p in REAL_SPEECH]
