"""Shared fixtures: deterministic speech-like waves and small s3prl-format checkpoints."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Callable

import pytest
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
        wave += (math.exp(-((freq - 600) / 400) ** 2) + 0.4 * math.exp(-((freq - 1700) / 500) ** 2) + 0.02) * torch.sin(h * phase)
    wave *= 0.4 + 0.6 * torch.sin(2 * math.pi * 4 * t).clamp(min=0)
    wave = 0.2 * wave / wave.abs().max().clamp(min=1e-9)
    wave += 0.002 * torch.randn(n, generator=gen, dtype=torch.float64)
    wave[n // 2: n // 2 + n // 10] *= 0.02
    return wave.float()


@pytest.fixture
def speech_like() -> Callable[..., torch.Tensor]:
    """``speech_like(seconds, seed=0)`` -> a deterministic 1-D speech-like wave."""
    return make_speech_like


def small_encoder_config(**overrides):
    from aalbert.upstream.model import TransformerConfig

    base = dict(input_dim=80, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=128)
    base.update(overrides)
    return TransformerConfig(**base)


@pytest.fixture
def make_s3prl_checkpoint(tmp_path) -> Callable[..., Path]:
    """``make_s3prl_checkpoint(name="ckpt.pt", feature_config=None, seed=0, step=0, extra=None, **encoder_kw)``
    writes a random-weight s3prl-format checkpoint of a small encoder (hidden 64 by default)
    under tmp_path and returns its path."""
    from aalbert.upstream.checkpoint import save_s3prl_checkpoint
    from aalbert.upstream.features import FeatureConfig, FeatureExtractor
    from aalbert.upstream.model import TransformerEncoder, build_spec_head

    def make(name: str = "ckpt.pt", feature_config=None, seed: int = 0, step: int = 0, extra=None, **encoder_kw):
        feature_config = feature_config if feature_config is not None else FeatureConfig()
        extractor = FeatureExtractor(feature_config)
        torch.manual_seed(seed)
        config = small_encoder_config(input_dim=extractor.input_dim, **encoder_kw)
        encoder = TransformerEncoder(config)
        head = build_spec_head(config, extractor.target_dim or extractor.input_dim)
        return save_s3prl_checkpoint(tmp_path / name, encoder, head, feature_config, step=step, extra=extra)

    return make
