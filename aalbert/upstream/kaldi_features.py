"""s3prl's second on-the-fly front end: Kaldi-compatible features (``audio.kaldi``).

An s3prl ``audio`` section with a ``kaldi`` entry selects ``torchaudio.compliance.kaldi``
features instead of the STFT preprocessor (s3prl's ``upstream/baseline/extracter.py``):

    audio:
      kaldi: {feat_type: fbank, fbank: {num_mel_bins: 80, frame_length: 25.0, frame_shift: 10.0}}
      delta: {order: 2, win_length: 5}     # optional; s3prl's default is order 2
      cmvn: {use_cmvn: true}               # required by s3prl

Each utterance is computed alone (no wave level normalisation, as in s3prl), then deltas
(torchaudio's ``compute_deltas``, edge replication), then per-utterance CMVN with the unbiased
std. Kaldi frames start at sample ``shift * i`` and span one window (``snip_edges``), so there
are ``1 + (n - window) // shift`` of them: about two fewer than the STFT front end's, each centred
half a window later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch
import torchaudio
from torch import Tensor, nn

from aalbert.audio_rate import SAMPLE_RATE

KALDI_FEAT_TYPES = ("fbank", "mfcc", "spectrogram")
EPS = 1e-10


@dataclass
class KaldiFrontEnd:
    feat_type: str = "fbank"
    options: dict[str, Any] = field(default_factory=dict)  # keyword arguments of the torchaudio function
    delta_order: int = 2
    delta_win_length: int = 5
    cmvn: bool = True
    cmvn_eps: float = EPS

    def __post_init__(self) -> None:
        if self.feat_type not in KALDI_FEAT_TYPES:
            raise ValueError(f"kaldi feat_type must be one of {', '.join(KALDI_FEAT_TYPES)}, got {self.feat_type!r}")
        if self.delta_order < 0 or self.delta_win_length < 3:
            raise ValueError(
                f"kaldi deltas need order >= 0 and win_length >= 3, got {self.delta_order}, {self.delta_win_length}"
            )
        if "sample_frequency" in self.options and float(self.options["sample_frequency"]) != SAMPLE_RATE:
            raise ValueError(f"kaldi sample_frequency must be {SAMPLE_RATE}")

    @classmethod
    def from_s3prl(cls, audio: dict) -> KaldiFrontEnd:
        kaldi = audio["kaldi"]
        if not isinstance(kaldi, dict):
            raise ValueError(f"audio.kaldi must be a mapping, got {kaldi!r}")
        feat_type = kaldi.get("feat_type", "fbank")
        options = kaldi.get(feat_type)
        if not isinstance(options, dict):
            raise ValueError(
                f"audio.kaldi needs a '{feat_type}' mapping of torchaudio.compliance.kaldi.{feat_type} "
                "options (s3prl reads the options from there)"
            )
        delta = dict(audio.get("delta") or {})
        mode = delta.pop("mode", "replicate")
        if mode != "replicate":
            raise ValueError(f"audio.delta.mode {mode!r} is not supported (only 'replicate')")
        unknown = set(delta) - {"order", "win_length"}
        if unknown:
            raise ValueError(f"unknown audio.delta key(s): {', '.join(sorted(unknown))}")
        cmvn = audio.get("cmvn")
        if not isinstance(cmvn, dict) or "use_cmvn" not in cmvn:
            raise ValueError("audio.cmvn.use_cmvn is missing (s3prl cannot build this extractor without it)")
        return cls(
            feat_type=feat_type,
            options=dict(options),
            delta_order=int(delta.get("order", 2)),
            delta_win_length=int(delta.get("win_length", 5)),
            cmvn=bool(cmvn["use_cmvn"]),
            cmvn_eps=float(cmvn.get("eps", EPS)),
        )

    def to_s3prl(self) -> dict:
        return {
            "kaldi": {"feat_type": self.feat_type, self.feat_type: dict(self.options)},
            "delta": {"order": self.delta_order, "win_length": self.delta_win_length},
            "cmvn": {"use_cmvn": self.cmvn, "eps": self.cmvn_eps},
        }

    @property
    def window(self) -> int:
        return int(SAMPLE_RATE * float(self.options.get("frame_length", 25.0)) / 1000)

    @property
    def shift(self) -> int:
        return int(SAMPLE_RATE * float(self.options.get("frame_shift", 10.0)) / 1000)

    @property
    def base_dim(self) -> int:
        """Feature size before deltas, from torchaudio's defaults (23 mel bins, 13 cepstra)."""
        if self.feat_type == "fbank":
            return int(self.options.get("num_mel_bins", 23)) + int(bool(self.options.get("use_energy", False)))
        if self.feat_type == "mfcc":
            return int(self.options.get("num_ceps", 13))
        padded = self.window
        if self.options.get("round_to_power_of_two", True):
            padded = 1 << math.ceil(math.log2(padded))
        return padded // 2 + 1

    @property
    def output_dim(self) -> int:
        return self.base_dim * (1 + self.delta_order)

    def num_frames(self, num_samples: int | Tensor) -> int | Tensor:
        if not self.options.get("snip_edges", True):
            if isinstance(num_samples, Tensor):
                return torch.div(num_samples + self.shift // 2, self.shift, rounding_mode="floor")
            return (int(num_samples) + self.shift // 2) // self.shift
        if isinstance(num_samples, Tensor):
            frames = 1 + torch.div(num_samples - self.window, self.shift, rounding_mode="floor")
            return frames.clamp(min=0)
        return max(0, 1 + (int(num_samples) - self.window) // self.shift)


def kaldi_features(front_end: KaldiFrontEnd, wavs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """(B, T, D) zero-padded features and (B,) frame counts, every utterance computed alone."""
    compute = getattr(torchaudio.compliance.kaldi, front_end.feat_type)
    feats = []
    for wav in wavs:
        x = compute(wav.view(1, -1).float(), sample_frequency=SAMPLE_RATE, **front_end.options)
        stack = [x]
        for _ in range(front_end.delta_order):
            stack.append(
                torchaudio.functional.compute_deltas(stack[-1].T.unsqueeze(0), win_length=front_end.delta_win_length)[
                    0
                ].T
            )
        x = torch.cat(stack, dim=-1)
        if front_end.cmvn:
            x = (x - x.mean(dim=0, keepdim=True)) / (front_end.cmvn_eps + x.std(dim=0, keepdim=True))
        feats.append(x)
    lengths = torch.tensor([f.size(0) for f in feats], dtype=torch.long)
    return nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths
