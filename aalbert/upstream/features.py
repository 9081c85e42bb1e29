"""On-the-fly acoustic features for Mockingjay / Audio ALBERT: waves -> log-mel inputs and targets.

This reproduces the numbers of s3prl's on-the-fly extractor (``upstream/baseline/preprocessor.py``
driven by a checkpoint's ``audio`` section, with the wave level normalisation done by the
mockingjay builder) while fixing its batching: in s3prl a short utterance in a padded batch
sees the batch's zero padding in its last STFT frames and deltas. Here every utterance is
computed as if it were alone, and padding frames are exactly zero.

The recipe, as s3prl does it:
  * optional RMS normalisation: ``wav * 10 ** (target_level / 20) / (rms + 1e-10)``
  * STFT: n_fft = 2 * (n_freq - 1), periodic Hann window of ``win_ms``, hop ``hop_ms``,
    ``center=True`` with reflect padding, power spectrum ``|X| ** 2``
  * mel: HTK-scale triangular filters (torchaudio's ``melscale_fbanks``, no norm, 0-8 kHz)
    applied to the power spectrum
  * log: natural log with a ``1e-10`` floor added (no dB conversion: ``min_level_db`` is carried
    for checkpoint compatibility only, s3prl's on-the-fly extractor ignores it too)
  * deltas: 5-frame regression with edge replication, delta-deltas = deltas of the deltas,
    stacked on the feature axis as [static, delta, delta-delta]
  * CMVN: per utterance over its valid frames, ``(x - mean) / (std + 1e-10)``, unbiased std
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

from aalbert.audio import SAMPLE_RATE, check_waves
from aalbert.config import from_dict
from aalbert.upstream.kaldi_features import KaldiFrontEnd, kaldi_features

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
            raise ValueError(f"hop_ms ({self.hop_ms}) must not exceed win_ms ({self.win_ms}): frames would skip samples")
        win = round(self.win_ms * SAMPLE_RATE / 1000)
        n_fft = 2 * (self.n_freq - 1)
        if win > n_fft:
            raise ValueError(f"a {self.win_ms} ms window ({win} samples) does not fit the FFT size "
                             f"{n_fft} given by n_freq={self.n_freq}; raise n_freq to at least {win // 2 + 1}")

    @classmethod
    def from_s3prl(cls, audio: dict) -> "FeatureConfig":
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
            warnings.warn(f"ignoring s3prl audio key(s) unused by the on-the-fly extractor: {', '.join(unexpected)}",
                          stacklevel=2)
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
        raise ValueError(f"audio.{where}.feat_type {feat_type!r} of s3prl's preprocessor is not supported here "
                         f"(only 'mel' and 'linear', what the published models use; MFCCs via audio.kaldi are)")
    channel = spec.pop("channel", 0)
    if not isinstance(channel, int):
        raise ValueError(f"s3prl audio.{where}.channel must be an integer, got {channel!r}")
    # s3prl's get_feat_config defaults: plain (not log) features, no deltas, no CMVN
    return {"log": False, "delta": 0, "cmvn": False, **spec}


class ExtractedFeatures(NamedTuple):
    inputs: Tensor  # (B, T, input_dim), zero-padded
    targets: Tensor | None  # (B, T, target_dim), zero-padded
    lengths: Tensor  # (B,) valid frames per utterance, int64


class FeatureExtractor(nn.Module):
    """Batched, padding-aware s3prl on-the-fly features; parameter-free (buffers only)."""

    sample_rate = SAMPLE_RATE

    def __init__(self, config: FeatureConfig | None = None):
        super().__init__()
        self.config = config if config is not None else FeatureConfig()
        cfg = self.config
        self.win_length = round(cfg.win_ms * self.sample_rate / 1000)
        self.hop_length = round(cfg.hop_ms * self.sample_rate / 1000)
        self.n_fft = 2 * (cfg.n_freq - 1)
        # one window, and enough samples for the reflect padding of the centred STFT
        self.min_samples = max(self.win_length, self.n_fft // 2 + 1)
        if cfg.kaldi is not None:
            self.win_length, self.hop_length = cfg.kaldi.window, cfg.kaldi.shift
            self.min_samples = cfg.kaldi.window
        self.input_dim = cfg.output_dim
        self.target_dim = cfg.target_dim
        self.register_buffer("window", torch.hann_window(self.win_length), persistent=False)
        fbank = torchaudio.functional.melscale_fbanks(
            n_freqs=cfg.n_freq, f_min=0.0, f_max=self.sample_rate / 2, n_mels=cfg.n_mels,
            sample_rate=self.sample_rate, norm=None, mel_scale="htk")
        self.register_buffer("mel_fbank", fbank, persistent=False)  # (n_freq, n_mels)

    def num_frames(self, num_samples: int | Tensor) -> int | Tensor:
        """Frames of a centred STFT: one per hop, plus one (Kaldi features: see kaldi_features)."""
        if self.config.kaldi is not None:
            return self.config.kaldi.num_frames(num_samples)
        if isinstance(num_samples, Tensor):
            return torch.div(num_samples, self.hop_length, rounding_mode="floor") + 1
        return int(num_samples) // self.hop_length + 1

    def forward(self, wavs: list[Tensor], with_target: bool = False,
                sample_rate: int = SAMPLE_RATE) -> ExtractedFeatures:
        if sample_rate != self.sample_rate:
            raise ValueError(f"sample_rate is {sample_rate} Hz, expected {self.sample_rate} Hz (resample first)")
        check_waves(wavs, min_samples=self.min_samples)
        device = self.window.device
        if self.config.kaldi is not None:
            feats, lengths = kaldi_features(self.config.kaldi, [w.cpu() for w in wavs])
            feats, lengths = feats.to(device), lengths.to(device)
            return ExtractedFeatures(feats, feats if with_target else None, lengths)
        if with_target and self.config.target is None:
            raise ValueError("with_target=True but this FeatureConfig has no target")
        lengths = torch.tensor([self.num_frames(w.numel()) for w in wavs], dtype=torch.long, device=device)
        power = self._power_spectrum([w.to(device=device, dtype=torch.float32) for w in wavs])
        inputs = self._features(power, lengths, self.config.input)
        targets = self._features(power, lengths, self.config.target) if with_target else None
        return ExtractedFeatures(inputs, targets, lengths)

    def _power_spectrum(self, wavs: list[Tensor]) -> Tensor:
        """(B, T, n_freq) power spectra, each utterance framed as if it were alone."""
        pad = self.n_fft // 2
        padded = []
        for wav in wavs:
            if self.config.target_level is not None:
                # Same operations in the same order as s3prl: log-spectra of near-silent bins
                # are ill-conditioned, so a one-ulp change in the gain shows up in them.
                rms = wav.pow(2).mean().pow(0.5)
                wav = wav * ((10 ** (self.config.target_level / 20)) / (rms + EPS))
            # Reflect-pad each utterance at its own edges (what center=True does to a lone
            # utterance); the batch's zero padding then lands only in frames we discard.
            padded.append(F.pad(wav.view(1, 1, -1), (pad, pad), mode="reflect").view(-1))
        batch = nn.utils.rnn.pad_sequence(padded, batch_first=True)
        spec = torch.stft(batch, n_fft=self.n_fft, hop_length=self.hop_length, win_length=self.win_length,
                          window=self.window, center=False, normalized=False, onesided=True,
                          return_complex=True)
        return spec.abs().pow(2).transpose(1, 2)

    def _features(self, power: Tensor, lengths: Tensor, spec: FeatureSpec) -> Tensor:
        feats = power @ self.mel_fbank if spec.feat_type == "mel" else power
        if spec.log:
            feats = (feats + EPS).log()
        stack = [feats]
        for _ in range(spec.delta):
            stack.append(_deltas(stack[-1], lengths))
        feats = torch.cat(stack, dim=-1)
        mask = (torch.arange(feats.size(1), device=feats.device)[None, :] < lengths[:, None]).unsqueeze(-1)
        if spec.cmvn:
            feats = _cmvn(feats, lengths, mask)
        return feats.masked_fill(~mask, 0.0)


def _deltas(feats: Tensor, lengths: Tensor) -> Tensor:
    """5-frame regression deltas, replicating each utterance's own first/last valid frame."""
    frames = torch.arange(feats.size(1), device=feats.device)[None, :]
    last = (lengths - 1)[:, None]
    out = torch.zeros_like(feats)
    for k in range(1, DELTA_WINDOW + 1):
        ahead = torch.minimum(frames + k, last).clamp(min=0)
        behind = (frames - k).clamp(min=0).expand_as(ahead)
        out = out + k * (_frames_at(feats, ahead) - _frames_at(feats, behind))
    denom = sum(2 * k * k for k in range(1, DELTA_WINDOW + 1))
    return out / denom


def _frames_at(feats: Tensor, index: Tensor) -> Tensor:
    """feats[b, index[b, t], :] for every b, t."""
    return feats.gather(1, index.unsqueeze(-1).expand(-1, -1, feats.size(2)))


def _cmvn(feats: Tensor, lengths: Tensor, mask: Tensor) -> Tensor:
    """Per-utterance mean/variance normalisation over valid frames (unbiased std, like torch.std)."""
    count = lengths.to(feats.dtype)[:, None, None]
    mean = feats.masked_fill(~mask, 0.0).sum(1, keepdim=True) / count
    centred = (feats - mean).masked_fill(~mask, 0.0)
    std = (centred.pow(2).sum(1, keepdim=True) / (count - 1)).sqrt()
    return centred / (std + EPS)
