"""A speaker's recording channel: band-limiting filters, background noise, level.

eSpeak's output is digitally clean (exact zeros in pauses and closures); real corpora are not,
and a model should not be able to find phone boundaries from exact zeros.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfilt

from .voices import VoiceParams


def apply_channel(wave: np.ndarray, voice: VoiceParams, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """float64 wave -> float64 wave with the speaker's channel; peak at ``voice.gain``."""
    rms = float(np.sqrt(np.mean(wave**2))) or 1e-4
    # noise enters before the filters so it is coloured by the same channel as the speech
    noisy = wave + rng.standard_normal(len(wave)) * rms * 10.0 ** (voice.noise_db / 20.0)
    highpass = butter(2, voice.highpass_hz, btype="highpass", fs=sample_rate, output="sos")
    lowpass = butter(4, voice.lowpass_hz, btype="lowpass", fs=sample_rate, output="sos")
    out = sosfilt(lowpass, sosfilt(highpass, noisy))
    peak = float(np.max(np.abs(out)))
    return out * (voice.gain / peak) if peak > 0 else out


def to_int16(wave: np.ndarray) -> np.ndarray:
    """Quantise here (not in libsndfile) so the FLAC bytes depend only on our arithmetic."""
    return np.clip(np.round(wave * 32767.0), -32768, 32767).astype(np.int16)
