"""A reusable utterance-level classification head over any utterance label.

Pooling (mean, or attentive statistics) -> MLP -> cross-entropy over the classes of its label
(the first of ``labels``: the speaker, or a metadata field such as ``speaker.gender``). A new task
is a subclass that says what it reads, plus a config.yaml::

    class Expert(UtteranceClassifierExpert):
        labels = ("speaker.gender",)
        split_policy = "disjoint_speakers"
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from .data import Batch
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .pooling import make_pooling
from .task_labels import SPEAKER, utterance_labels


@dataclass
class UtteranceClassifierConfig(MLPHeadConfig):
    pooling: str = "mean"  # "mean" or "attentive" (attentive statistics pooling)


class UtteranceClassifierExpert(Expert):
    Config = UtteranceClassifierConfig
    labels = (SPEAKER,)  # the first is the utterance label predicted: speaker, speaker.FIELD, utterance.FIELD
    main_metric = "accuracy"

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.label = self.labels[0]
        self.class_names = self.label_classes()
        self.class_index = {name: i for i, name in enumerate(self.class_names)}
        self.output_classes = len(self.class_names)
        self.pooling = make_pooling(self.config.pooling, context.input_dim)
        # named "classifier" as in the older speaker expert, so its checkpoints still load
        self.classifier = self.config.mlp(self.pooling.output_dim, self.output_classes)

    def targets(self, batch: Batch, device: torch.device) -> torch.Tensor:
        if self.label in batch.labels:  # class ids of the label (aalbert.downstream.data.label_values)
            return batch.labels[self.label].to(device)
        if self.label == SPEAKER:
            return batch.speakers.to(device)  # already indices into corpus.speakers
        values = utterance_labels(self.context.corpus, self.label, batch)
        return torch.tensor([self.class_index[v] for v in values], dtype=torch.long, device=device)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        logits = self.classifier(self.pooling(features, lengths))
        targets = self.targets(batch, features.device)
        loss = F.cross_entropy(logits, targets)
        correct = (logits.argmax(-1) == targets).sum().item()
        return StepOutput(loss, {"correct": correct, "utterances": len(targets)}, logits)

    def metrics(self, counts: dict[str, Any]) -> dict[str, float]:
        return {"accuracy": ratio(counts["correct"], counts["utterances"])}
