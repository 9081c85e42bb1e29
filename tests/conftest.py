"""Shared fixtures: deterministic speech-like waves and small s3prl-format checkpoints."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from speech_waves import make_speech_like  # noqa: E402  (tests/ is on sys.path)


@pytest.fixture(autouse=True, scope="session")
def _corpus_scan_cache_in_tmp(tmp_path_factory):
    """Corpus scan manifests (aalbert.corpus.scan_cache) go to a temporary folder, not ~/.cache."""
    os.environ["AALBERT_CACHE_DIR"] = str(tmp_path_factory.mktemp("aalbert_cache"))


@pytest.fixture
def speech_like() -> Callable[..., torch.Tensor]:
    """``speech_like(seconds, seed=0)`` -> a deterministic 1-D speech-like wave."""
    return make_speech_like


def small_encoder_config(**overrides):
    from aalbert.upstream.model_config import TransformerConfig

    base = dict(input_dim=80, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=128)
    base.update(overrides)
    return TransformerConfig(**base)


@pytest.fixture
def make_s3prl_checkpoint(tmp_path) -> Callable[..., Path]:
    """``make_s3prl_checkpoint(name="ckpt.pt", feature_config=None, seed=0, step=0, extra=None, **encoder_kw)``
    writes a random-weight s3prl-format checkpoint of a small encoder (hidden 64 by default)
    under tmp_path and returns its path."""
    from aalbert.upstream.checkpoint import save_s3prl_checkpoint
    from aalbert.upstream.feature_config import FeatureConfig
    from aalbert.upstream.features import FeatureExtractor
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
