"""What features an upstream computes: s3prl's ``audio`` section as typed configs.

``FeatureConfig`` is read from and written to a checkpoint's ``audio`` section
(``from_s3prl`` / ``to_s3prl``); ``aalbert.upstream.features.FeatureExtractor`` computes them.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any

from aalbert.audio import SAMPLE_RATE
from aalbert.config import from_dict
from aalbert.upstream.kaldi_features import KaldiFrontEnd

FEAT_TYPES = ("mel", "linear")
# s3prl's OnlinePreprocessor epsilon: log floor, CMVN std floor and RMS floor all use it.
EPS = 1e-10
DELTA_WINDOW = 2  # +-2 frames: torchaudio.functional.compute_deltas' default win_length=5
# Keys s3prl's OnlinePreprocessor accepts and ignores for the mel/linear features (it swallows
# them through **kwargs or uses them only for MFCC); checkpoints may carry them.
_S3PRL_IGNORED_KEYS = ("n_mfcc", "sample_rate")


@dataclass
class FeatureSpec:
    """One of s3prl's ``audio.input`` / ``audio.target`` entries."""

    feat_type: str = "mel"  # "mel" | "linear"
    log: bool = True
    delta: int = 0  # 0, 1 (adds deltas) or 2 (deltas + delta-deltas)
    cmvn: bool = True

    def __post_init__(self) -> None:
        if self.feat_type not in FEAT_TYPES:
            raise ValueError(f"feat_type must be one of {', '.join(FEAT_TYPES)}, got {self.feat_type!r}")
        if isinstance(self.delta, bool) or self.delta not in (0, 1, 2):
            raise ValueError(f"delta must be 0, 1 or 2, got {self.delta!r}")


@dataclass
class FeatureConfig:
    """s3prl's ``audio`` section: the on-the-fly feature configuration a checkpoint carries."""

    target_level: float | None = -25  # RMS normalisation of the wave in dB; None = off
    win_ms: int = 25
    hop_ms: int = 10
    n_freq: int = 201
    n_mels: int = 80
    min_level_db: float = -100  # kept for checkpoint round trips; unused (see module docstring)
    input: FeatureSpec = field(default_factory=lambda: FeatureSpec("mel"))
    target: FeatureSpec | None = field(default_factory=lambda: FeatureSpec("linear"))
    # s3prl's other front end (audio.kaldi): when set, it replaces everything above
    kaldi: KaldiFrontEnd | None = None

    def __post_init__(self) -> None:
        for name in ("win_ms", "hop_ms", "n_mels"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.n_freq < 2:
            raise ValueError(f"n_freq must be at least 2, got {self.n_freq}")
        if self.hop_ms > self.win_ms:
            raise ValueError(
                f"hop_ms ({self.hop_ms}) must not exceed win_ms ({self.win_ms}): frames would skip samples"
            )
        win = round(self.win_ms * SAMPLE_RATE / 1000)
        n_fft = 2 * (self.n_freq - 1)
        if win > n_fft:
            raise ValueError(
                f"a {self.win_ms} ms window ({win} samples) does not fit the FFT size "
                f"{n_fft} given by n_freq={self.n_freq}; raise n_freq to at least {win // 2 + 1}"
            )

    @classmethod
    def from_s3prl(cls, audio: dict) -> FeatureConfig:
        """Read an s3prl checkpoint's ``audio`` section (missing keys take s3prl's defaults)."""
        if not isinstance(audio, dict):
            raise ValueError(f"s3prl audio config must be a mapping, got {type(audio).__name__}")
        if "kaldi" in audio:
            # s3prl's extracter: no wave normalisation, and the input is its own target
            return cls(target_level=None, target=None, kaldi=KaldiFrontEnd.from_s3prl(audio))
        audio = dict(audio)
        eps = audio.pop("eps", EPS)
        if eps != EPS:
            raise ValueError(f"s3prl audio eps={eps} is not supported (only the default {EPS})")
        sample_rate = audio.get("sample_rate", SAMPLE_RATE)
        if sample_rate != SAMPLE_RATE:
            raise ValueError(f"s3prl audio sample_rate={sample_rate} is not supported (only {SAMPLE_RATE})")
        known = {f.name for f in dataclasses.fields(cls)}
        ignored = sorted(k for k in audio if k not in known)
        unexpected = [k for k in ignored if k not in _S3PRL_IGNORED_KEYS]
        if unexpected:
            # s3prl itself swallows unknown keys, so a checkpoint it loads must load here too.
            warnings.warn(
                f"ignoring s3prl audio key(s) unused by the on-the-fly extractor: {', '.join(unexpected)}", stacklevel=2
            )
        data: dict[str, Any] = {k: v for k, v in audio.items() if k in known}
        # s3prl's pretraining dataset spells "off" as the string 'None'
        if data.get("target_level") == "None":
            data["target_level"] = None
        # OnlinePreprocessor's own default is 40 mels, not our 80
        data.setdefault("n_mels", 40)
        if "input" not in data:
            raise ValueError("s3prl audio config has no 'input' section")
        data["input"] = _spec_from_s3prl(data["input"], "input")
        # s3prl reconstructs the input when no target is given
        data["target"] = _spec_from_s3prl(data["target"], "target") if "target" in data else dict(data["input"])
        return from_dict(cls, data, where="s3prl audio")

    def to_s3prl(self) -> dict:
        """The ``audio`` section as s3prl writes it (``target_level`` off is the string 'None').

        s3prl cannot express "no target" (it falls back to the input), so ``target=None`` is
        written as an absent ``target`` key.
        """
        if self.kaldi is not None:
            return self.kaldi.to_s3prl()
        audio: dict[str, Any] = {
            "target_level": "None" if self.target_level is None else self.target_level,
            "win_ms": self.win_ms,
            "hop_ms": self.hop_ms,
            "n_freq": self.n_freq,
            "n_mels": self.n_mels,
            "min_level_db": self.min_level_db,
            "input": {"channel": 0, **dataclasses.asdict(self.input)},
        }
        if self.target is not None:
            audio["target"] = {"channel": 0, **dataclasses.asdict(self.target)}
        return audio

    @property
    def output_dim(self) -> int:
        """Size of the input features the encoder reads (with deltas), known without an extractor."""
        return self.kaldi.output_dim if self.kaldi is not None else self._spec_dim(self.input)

    @property
    def target_dim(self) -> int:
        """Size of the pretraining target frames (0 without a target; the input for Kaldi features)."""
        if self.kaldi is not None:
            return self.kaldi.output_dim
        return self._spec_dim(self.target) if self.target is not None else 0

    def _spec_dim(self, spec: FeatureSpec) -> int:
        base = self.n_mels if spec.feat_type == "mel" else self.n_freq
        return base * (1 + spec.delta)


def _spec_from_s3prl(spec: Any, where: str) -> dict:
    if not isinstance(spec, dict):
        raise ValueError(f"s3prl audio.{where} must be a mapping, got {spec!r}")
    spec = dict(spec)
    feat_type = spec.get("feat_type")
    if feat_type in ("wav", "complx", "phase", "mfcc"):
        raise ValueError(
            f"audio.{where}.feat_type {feat_type!r} of s3prl's preprocessor is not supported here "
            f"(only 'mel' and 'linear', what the published models use; MFCCs via audio.kaldi are)"
        )
    channel = spec.pop("channel", 0)
    if not isinstance(channel, int):
        raise ValueError(f"s3prl audio.{where}.channel must be an integer, got {channel!r}")
    # s3prl's get_feat_config defaults: plain (not log) features, no deltas, no CMVN
    return {"log": False, "delta": 0, "cmvn": False, **spec}
