"""Fixtures for the analysis tests: small generated audio, corpora and checkpoints (nothing from outside)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import soundfile

sys.path.insert(0, str(Path(__file__).parent))

from tone_corpus import SR, make_tone_corpus  # noqa: E402


@pytest.fixture
def audio_dir(tmp_path, speech_like) -> Path:
    """Four speech-like files of different lengths (so batches are padded), in nested folders."""
    root = tmp_path / "audio"
    for i, seconds in enumerate([0.6, 0.9, 0.45, 0.75]):
        folder = root / f"spk{i % 2}"
        folder.mkdir(parents=True, exist_ok=True)
        soundfile.write(folder / f"utt{i}.flac", speech_like(seconds, seed=i).numpy(), SR)
    return root


@pytest.fixture
def tiny_aalbert_ckpt(make_s3prl_checkpoint) -> Path:
    """A 3-layer AALBERT (one shared weight group), hidden 64, 4 heads, random weights."""
    return make_s3prl_checkpoint("tiny_aalbert.pt", num_hidden_layers=3, num_hidden_groups=1)


@pytest.fixture(scope="session")
def probe_corpus(tmp_path_factory) -> Path:
    return make_tone_corpus(tmp_path_factory.mktemp("analysis_tones"))
