"""What every task expert provides, and small pieces the built-in experts share.

A task's expert is an ``nn.Module`` built from the feature size, the upstream's frame rate,
the corpus (labels, speakers) and the task's ``model`` config section. Each step returns the
loss and *counts* (e.g. correct and total frames) rather than metrics: counts add up over
batches and processes exactly, and ``metrics`` turns the totals into numbers at the end.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from aalbert.audio_rate import HOP_SAMPLES, SAMPLE_RATE
from aalbert.config import from_dict
from aalbert.errors import BadInputError
from aalbert.padding import valid_mask  # noqa: F401 - a helper task authors import from here (docs/adding_a_task.md)

from .data import Batch, Corpus, TaskData
from .data.splits import SplitPolicy
from .previous_spellings import read_previous_spellings
from .task_labels import label_names, task_data


@dataclass
class TaskContext:
    """Everything an expert may know about its run, given to ``Expert.__init__``.

    ``corpus`` holds the splits (``corpus.splits["train"]``: ``Utterance`` records), the speakers
    (a sorted list of string ids; index = speaker class), the phone names, and the metadata the
    reader found (``speaker_info``: speaker -> {"gender": "f", ...}; ``utterance_info``).
    """

    input_dim: int  # feature size the featurizer hands over
    downsample_rate: int  # samples per upstream frame
    corpus: Corpus
    task: str = ""  # the task's name (-d)
    # the labels this run reads (the task config's `labels:`, else the expert's); () = the expert class's
    labels: tuple[str, ...] = ()

    @property
    def stacking(self) -> int:
        """Label frames (10 ms) per upstream frame."""
        if self.downsample_rate % HOP_SAMPLES:
            raise BadInputError(
                f"upstream frame of {self.downsample_rate} samples is not a multiple of the "
                f"10 ms label frame ({HOP_SAMPLES} samples)"
            )
        return self.downsample_rate // HOP_SAMPLES

    @property
    def frame_rate(self) -> float:
        """Feature frames per second."""
        return SAMPLE_RATE / self.downsample_rate

    @property
    def corpus_root(self) -> Path | None:
        return self.corpus.root

    @property
    def speaker_info(self) -> dict[str, dict[str, str]]:
        return self.corpus.speaker_info

    @property
    def utterance_info(self) -> dict[str, dict[str, str]]:
        return self.corpus.utterance_info

    def label_names(self, label: str) -> list[str]:
        """The classes of a label (``"speaker"``, ``"speaker.gender"``, ``"frame_phones"``...);
        index = class id. See :mod:`aalbert.downstream.task_labels`."""
        return label_names(self.corpus, label)


@dataclass
class StepOutput:
    loss: torch.Tensor
    # counts that add up over batches (add_counts): numbers are summed (correct, total, edits), lists
    # concatenated (predictions and targets for a correlation, (uttid, embedding) pairs for verification)
    counts: dict[str, Any]
    # optional: the head's class scores (..., classes); when given, the runner checks on the first
    # batch that their size matches the label set (Expert.output_classes)
    logits: torch.Tensor | None = None


class Expert(nn.Module):
    """Base class of task experts. Subclasses set the class attributes and implement
    ``forward`` and ``metrics``; the runner checks the declarations before training starts."""

    Config: ClassVar[type[Any]]  # dataclass of the ``model`` section
    # What the task reads, said once: everything the corpus loader provides and the checks before
    # training follow from these two (task_labels.task_data).
    # The labels: frame_phones, phone_sequence, speaker (the classes are speakers), speaker.FIELD,
    # utterance.FIELD; a reusable head predicts the first.
    labels: tuple[str, ...] = ()  # an instance sees the run's labels (a task config may name them)
    # the default split when the corpus has no split lists: "per_speaker" (each speaker's
    # utterances 8:1:1; needed by "speaker") or "disjoint_speakers" (speakers 8:1:1: test voices are
    # unseen). A task reading speaker.FIELD with "disjoint_speakers" *requires* it: overlapping lists are refused.
    split_policy: ClassVar[SplitPolicy] = "per_speaker"
    # a key of metrics(); picks the best checkpoint on dev. The runner reads the expert's, so a head may
    # set it in __init__ from the run's labels (the CTC head: per for phones, wer for characters and words)
    main_metric: str = "accuracy"
    higher_is_better: bool = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        read_previous_spellings(cls)

    def __init__(self, context: TaskContext, config: dict):
        super().__init__()
        self.context = context
        # the run's labels: the task config may name them (`labels:`), else the class declares them
        self.labels = tuple(context.labels) or type(self).labels
        self.config: Any = from_dict(self.Config, config, where="model")  # each subclass's own Config
        # classes the head outputs, checked against StepOutput.logits on the first batch (None: unchecked)
        self.output_classes: int | None = None

    def label_classes(self, use: str = "") -> list[str]:
        """The class names of the label this head predicts (the first of ``labels``) in this corpus.
        ``use`` (e.g. "classification"): the head cannot work without them, so none is an error."""
        names = self.context.label_names(self.labels[0])
        if use and not names:
            raise BadInputError(f"{self.labels[0]} {use} needs a label list (data.phone_list)")
        return names

    @classmethod
    def task_data(cls, task: str = "", labels: tuple[str, ...] | list[str] = ()) -> TaskData:
        """What this task needs from the corpus: derived from ``labels`` (the run's, else the class's)
        and ``split_policy``; the expert's frame-label hook goes along when it has one."""
        needs = task_data(tuple(labels) or cls.labels, cls.split_policy, task)
        # the class itself: the hook's cache is keyed by its frame_labels_version too
        has_hook = callable(getattr(cls, "frame_labels", None))
        return dataclasses.replace(needs, frame_label_hook=cls) if has_hook else needs

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        raise NotImplementedError

    def metrics(self, counts: dict[str, Any]) -> dict[str, float]:
        """The metrics of added-up counts (a whole split, or one training batch for logging). Called on the
        expert, so it may use what the expert holds (trials, label names); a staticmethod works too."""
        raise NotImplementedError


@dataclass
class MLPHeadConfig:
    """The ``model`` section of the built-in heads: an MLP classifier (see :func:`mlp`). A head
    with other defaults or more settings subclasses it."""

    hidden_layers: int = 0
    hidden_size: int = 256
    dropout: float = 0.0

    def mlp(self, input_dim: int, output_dim: int) -> nn.Sequential:
        """``mlp(input_dim, output_dim)`` with this section's ``hidden_layers``, ``hidden_size``, ``dropout``."""
        return mlp(
            input_dim, output_dim, hidden_layers=self.hidden_layers, hidden_size=self.hidden_size, dropout=self.dropout
        )


def mlp(
    input_dim: int, output_dim: int, *, hidden_layers: int = 0, hidden_size: int = 256, dropout: float = 0.0
) -> nn.Sequential:
    """``mlp(input_dim, output_dim, *, hidden_layers=0, hidden_size=256, dropout=0.0)``: a linear
    classifier (``hidden_layers=0``) or ``hidden_layers`` x (Linear ``hidden_size`` wide, ReLU,
    Dropout) then a Linear to ``output_dim``. Everything after ``output_dim`` is keyword-only: a
    guess such as ``mlp(input_dim, hidden_size, output_dim)`` would otherwise silently build
    ``output_dim`` hidden layers and ``hidden_size`` outputs."""
    if hidden_layers < 0:
        raise BadInputError(f"hidden_layers must be >= 0, got {hidden_layers}")
    layers: list[nn.Module] = []
    width = input_dim
    for _ in range(hidden_layers):
        layers += [nn.Linear(width, hidden_size), nn.ReLU(), nn.Dropout(dropout)]
        width = hidden_size
    layers.append(nn.Linear(width, output_dim))
    return nn.Sequential(*layers)


def ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def add_counts(totals: dict[str, Any], counts: dict[str, Any]) -> dict[str, Any]:
    """``counts`` added into ``totals`` (and returned): numbers summed, lists concatenated: the one
    place the counts of batches (and of processes) add up."""
    for key, value in counts.items():
        if isinstance(value, (list, tuple)):
            totals[key] = [*totals.get(key, []), *value]
        else:
            totals[key] = totals.get(key, 0.0) + float(value)
    return totals
