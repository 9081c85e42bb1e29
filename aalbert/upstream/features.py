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

from typing import NamedTuple

import torch
import torch.nn.functional as F
import torchaudio
from torch import Tensor, nn

from aalbert.audio import SAMPLE_RATE, check_waves
from aalbert.padding import valid_mask
from aalbert.upstream.feature_config import DELTA_WINDOW, EPS, FeatureConfig, FeatureSpec
from aalbert.upstream.kaldi_features import kaldi_features


class ExtractedFeatures(NamedTuple):
    inputs: Tensor  # (B, T, input_dim), zero-padded
    targets: Tensor | None  # (B, T, target_dim), zero-padded
    lengths: Tensor  # (B,) valid frames per utterance, int64


class FeatureExtractor(nn.Module):
    """Batched, padding-aware s3prl on-the-fly features; parameter-free (buffers only)."""

    sample_rate = SAMPLE_RATE
    window: Tensor  # buffers (registered in __init__), typed for the type checker
    mel_fbank: Tensor

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
            n_freqs=cfg.n_freq,
            f_min=0.0,
            f_max=self.sample_rate / 2,
            n_mels=cfg.n_mels,
            sample_rate=self.sample_rate,
            norm=None,
            mel_scale="htk",
        )
        self.register_buffer("mel_fbank", fbank, persistent=False)  # (n_freq, n_mels)

    def num_frames(self, num_samples: int | Tensor) -> int | Tensor:
        """Frames of a centred STFT: one per hop, plus one (Kaldi features: see kaldi_features)."""
        if self.config.kaldi is not None:
            return self.config.kaldi.num_frames(num_samples)
        if isinstance(num_samples, Tensor):
            return torch.div(num_samples, self.hop_length, rounding_mode="floor") + 1
        return int(num_samples) // self.hop_length + 1

    def forward(
        self, wavs: list[Tensor], with_target: bool = False, sample_rate: int = SAMPLE_RATE
    ) -> ExtractedFeatures:
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
        target = self.config.target
        targets = self._features(power, lengths, target) if with_target and target is not None else None
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
        spec = torch.stft(
            batch,
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            win_length=self.win_length,
            window=self.window,
            center=False,
            normalized=False,
            onesided=True,
            return_complex=True,
        )
        return spec.abs().pow(2).transpose(1, 2)

    def _features(self, power: Tensor, lengths: Tensor, spec: FeatureSpec) -> Tensor:
        feats = power @ self.mel_fbank if spec.feat_type == "mel" else power
        if spec.log:
            feats = (feats + EPS).log()
        stack = [feats]
        for _ in range(spec.delta):
            stack.append(_deltas(stack[-1], lengths))
        feats = torch.cat(stack, dim=-1)
        if spec.cmvn:
            return utterance_cmvn(feats, lengths)
        return feats.masked_fill(~valid_mask(lengths, feats.size(1)).unsqueeze(-1), 0.0)


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


def utterance_cmvn(feats: Tensor, lengths: Tensor) -> Tensor:
    """Per-utterance mean/variance normalisation of (B, T, D) over each utterance's valid frames
    (unbiased std, like torch.std; padded frames out are 0). The front end's ``cmvn`` and the
    downstream featurizer's ``featurizer.cmvn`` (any hidden state) are this one function."""
    lengths = lengths.to(feats.device)
    mask = valid_mask(lengths, feats.size(1)).unsqueeze(-1)
    count = lengths.to(feats.dtype)[:, None, None]
    mean = feats.masked_fill(~mask, 0.0).sum(1, keepdim=True) / count.clamp(min=1)
    centred = (feats - mean).masked_fill(~mask, 0.0)
    # one frame has no spread: divide by 1, not 0 (it comes out as 0, not nan)
    std = (centred.pow(2).sum(1, keepdim=True) / (count - 1).clamp(min=1)).sqrt()
    return centred / (std + EPS)
