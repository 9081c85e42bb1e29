"""Small generated fixtures for the pretraining tests: synthetic 16 kHz waves and tiny recipes."""

from __future__ import annotations

import numpy as np
import soundfile

from aalbert.config import from_dict
from aalbert.pretrain.config import PretrainConfig

SR = 16000


def write_corpus(root, n: int = 6, seed: int = 0, min_s: float = 1.0, max_s: float = 2.0):
    """LibriSpeech-like layout root/spk/chapter/*.flac of harmonic tones plus noise, 1-2 s."""
    rng = np.random.default_rng(seed)
    paths = []
    for i in range(n):
        folder = root / f"{100 + i % 2}" / "1"
        folder.mkdir(parents=True, exist_ok=True)
        dur = rng.uniform(min_s, max_s)
        t = np.arange(int(dur * SR)) / SR
        f0 = rng.uniform(100, 300)
        wave = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5)) * 0.2
        wave = wave * (0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t)) + 0.01 * rng.standard_normal(t.size)
        path = folder / f"{100 + i % 2}-1-{i:04d}.flac"
        soundfile.write(path, wave.astype(np.float32), SR)
        paths.append(path)
    return paths


def tiny_config(roots, **sections) -> PretrainConfig:
    data = {
        "model": {
            "hidden_size": 32,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "intermediate_size": 64,
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
        },
        "data": {"roots": [str(r) for r in roots], "max_frames": 120},
        "runner": {
            "total_steps": 20,
            "batch_size": 2,
            "num_workers": 0,
            "log_step": 5,
            "image_step": 0,
            "save_step": 10,
            "max_keep": 2,
        },
        "optimizer": {"lr": 1e-3, "warmup_proportion": 0.1},
        "seed": 3,
    }
    for key, value in sections.items():
        data[key] = {**data.get(key, {}), **value}
    return from_dict(PretrainConfig, data)
