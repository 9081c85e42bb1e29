"""A reusable utterance head with one classifier output per categorical label: intent
classification as SUPERB scores it (Fluent Speech Commands' action, object and location).

Pooling (mean, or attentive statistics) -> a shared MLP trunk -> one linear output per label of
the run (``self.labels``: ``utterance.FIELD``, ``speaker.FIELD`` or ``speaker``); the loss is the
sum of the labels' cross-entropies. ``accuracy`` counts an utterance right only when every label
is (SUPERB's intent accuracy); ``accuracy.FIELD`` is each label's own. The task folder
``intent_classification`` is this head with the three slots::

    labels: [utterance.action, utterance.object, utterance.location]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import torch
import torch.nn.functional as F
from torch import nn

from aalbert.errors import TaskRequirementError

from .data import Batch
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .pooling import make_pooling
from .task_labels import parse_label, utterance_field

ALL_CORRECT = "correct"  # counts: utterances whose every label is right
UTTERANCES = "utterances"


@dataclass
class MultiOutputClassifierConfig(MLPHeadConfig):
    """``hidden_layers`` ReLU layers shared by the outputs (0: each output is linear on the pooled frames)."""

    pooling: str = "mean"  # "mean" or "attentive" (attentive statistics pooling)


def label_keys(labels: Sequence[str]) -> list[str]:
    """How metrics name each label: its field (``utterance.action`` -> ``action``), or the whole
    label when the field alone is ambiguous (``speaker.gender`` and ``utterance.gender``) or absent."""
    fields = [parse_label(label).field or label for label in labels]
    return [f if fields.count(f) == 1 else label for f, label in zip(fields, labels)]


def slot_counts(logits: Sequence[torch.Tensor], targets: Sequence[torch.Tensor], keys: Sequence[str]) -> dict:
    """Counts of one batch: utterances, those whose every output is right (``correct``), and each
    output's right ones (``correct.KEY``). ``logits[i]``: (B, classes of label i); ``targets[i]``: (B,)."""
    right = torch.stack([out.argmax(-1) == target for out, target in zip(logits, targets)])  # (labels, B)
    counts: dict[str, float] = {UTTERANCES: right.shape[1], ALL_CORRECT: int(right.all(0).sum())}
    for key, hits in zip(keys, right):
        counts[f"{ALL_CORRECT}.{key}"] = int(hits.sum())
    return counts


def slot_metrics(counts: dict, keys: Sequence[str]) -> dict[str, float]:
    """``accuracy`` (every output right) and ``accuracy.KEY`` per output; 0 for an empty split."""
    total = counts.get(UTTERANCES, 0)
    metrics = {"accuracy": ratio(counts.get(ALL_CORRECT, 0), total)}
    for key in keys:
        metrics[f"accuracy.{key}"] = ratio(counts.get(f"{ALL_CORRECT}.{key}", 0), total)
    return metrics


class MultiOutputUtteranceClassifierExpert(Expert):
    Config = MultiOutputClassifierConfig
    labels = (utterance_field("action"), utterance_field("object"), utterance_field("location"))
    # the corpus's own partition when it has one (Fluent Speech Commands' CSVs: unseen speakers in test)
    split_policy = "disjoint_speakers"
    main_metric = "accuracy"

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        for label in self.labels:
            spec = parse_label(label)
            if not spec.per_utterance or spec.numeric:
                raise TaskRequirementError(
                    f"{label}: a {type(self).__name__} predicts categorical utterance labels "
                    "(speaker, speaker.FIELD, utterance.FIELD), one output each"
                )
        self.keys = label_keys(self.labels)
        self.class_names = {label: context.label_names(label) for label in self.labels}
        self.output_classes = sum(len(names) for names in self.class_names.values())  # the logits, concatenated
        self.pooling = make_pooling(self.config.pooling, context.input_dim)
        self.trunk, width = _trunk(cast(int, self.pooling.output_dim), self.config)
        self.outputs = nn.ModuleList(nn.Linear(width, len(self.class_names[label])) for label in self.labels)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        shared = self.trunk(self.pooling(features, lengths))
        logits = [output(shared) for output in self.outputs]
        targets = [batch.labels[label].to(features.device) for label in self.labels]
        loss = torch.stack([F.cross_entropy(out, target) for out, target in zip(logits, targets)]).sum()
        return StepOutput(loss, slot_counts(logits, targets, self.keys), torch.cat(logits, dim=-1))

    # an instance method, as the runner calls it: the metric names follow this run's labels
    def metrics(self, counts: dict) -> dict[str, float]:
        return slot_metrics(counts, self.keys)


def _trunk(input_dim: int, config: MultiOutputClassifierConfig) -> tuple[nn.Module, int]:
    """The layers the outputs share, and their output size: the section's MLP (:func:`mlp`: its
    checks and layer layout) without its final Linear, which each output has of its own."""
    hidden = list(config.mlp(input_dim, 1))[:-1]
    return nn.Sequential(*hidden), config.hidden_size if config.hidden_layers else input_dim
