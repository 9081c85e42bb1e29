"""What every task expert provides, and small pieces the built-in experts share.

A task's expert is an ``nn.Module`` built from the feature size, the upstream's frame rate,
the corpus (labels, speakers) and the task's ``model`` config section. Each step returns the
loss and *counts* (e.g. correct and total frames) rather than metrics: counts add up over
batches and processes exactly, and ``metrics`` turns the totals into numbers at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn

from aalbert.config import from_dict

from .data import Batch, Corpus, TaskData

SAMPLES_PER_LABEL_FRAME = 160  # alignments are at 10 ms, 16 kHz


@dataclass
class TaskContext:
    input_dim: int          # feature size the featurizer hands over
    downsample_rate: int    # samples per upstream frame
    corpus: Corpus

    @property
    def stacking(self) -> int:
        """Label frames (10 ms) per upstream frame."""
        if self.downsample_rate % SAMPLES_PER_LABEL_FRAME:
            raise ValueError(f"upstream frame of {self.downsample_rate} samples is not a multiple of the "
                             f"10 ms label frame ({SAMPLES_PER_LABEL_FRAME} samples)")
        return self.downsample_rate // SAMPLES_PER_LABEL_FRAME


@dataclass
class StepOutput:
    loss: torch.Tensor
    counts: dict[str, float]


class Expert(nn.Module):
    """Base class of task experts. Subclasses set the class attributes and implement
    ``forward`` and ``metrics``."""

    Config: ClassVar[type]            # dataclass of the ``model`` section
    needs_phones: ClassVar[bool] = False
    # with needs_phones: "frames" (a label per 10 ms frame) or "sequence" (phones in order: CTC)
    phone_labels: ClassVar[str] = "frames"
    # the default split when the corpus has no split lists: "per_speaker" (each speaker's
    # utterances 8:1:1) or "disjoint_speakers" (speakers 8:1:1: test voices are unseen)
    split_policy: ClassVar[str] = "per_speaker"
    speaker_classes: ClassVar[bool] = False   # predicts speakers: dev/test speakers must be in train
    main_metric: ClassVar[str] = "accuracy"
    higher_is_better: ClassVar[bool] = True

    def __init__(self, context: TaskContext, config: dict):
        super().__init__()
        self.context = context
        self.config = from_dict(self.Config, config, where="model")

    @classmethod
    def task_data(cls) -> TaskData:
        """What this task needs from the corpus (labels, default split)."""
        return TaskData(cls.phone_labels if cls.needs_phones else "none", cls.split_policy, cls.speaker_classes)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        raise NotImplementedError

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        raise NotImplementedError


def valid_mask(lengths: torch.Tensor, max_len: int) -> torch.Tensor:
    """(B, T) bool mask of frames inside each utterance."""
    return torch.arange(max_len, device=lengths.device)[None, :] < lengths[:, None]


def mlp(input_dim: int, output_dim: int, hidden_layers: int = 0, hidden_size: int = 256,
        dropout: float = 0.0) -> nn.Sequential:
    """Linear classifier (``hidden_layers=0``) or an MLP with ReLU and dropout."""
    if hidden_layers < 0:
        raise ValueError(f"hidden_layers must be >= 0, got {hidden_layers}")
    layers: list[nn.Module] = []
    width = input_dim
    for _ in range(hidden_layers):
        layers += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_size
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


def ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0
