"""Frame-level phone classification, shared by phone_linear / phone_1hidden / phone_2hidden.

The three tasks differ only in ``hidden_layers`` (0, 1, 2), set in their config.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .data import Batch
from .data.labels import IGNORE_INDEX, frame_labels
from .expert import Expert, StepOutput, TaskContext, mlp, ratio


@dataclass
class FrameClassifierConfig:
    hidden_layers: int = 0
    hidden_size: int = 256
    dropout: float = 0.1


class FrameClassifierExpert(Expert):
    Config = FrameClassifierConfig
    needs_phones = True
    split_policy = "disjoint_speakers"  # phones are tested on voices not heard in training
    main_metric = "accuracy"

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        if not context.corpus.phone_names:
            raise ValueError("phone classification needs a phone list (data.phone_list)")
        self.num_classes = len(context.corpus.phone_names)
        c = self.config
        self.classifier = mlp(context.input_dim, self.num_classes, c.hidden_layers, c.hidden_size, c.dropout)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        labels = frame_labels(batch.phones, lengths, self.context.stacking, batch.uttids).to(features.device)
        features = features[:, :labels.shape[1]]
        logits = self.classifier(features)
        loss = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX)
        valid = labels != IGNORE_INDEX
        correct = ((logits.argmax(-1) == labels) & valid).sum().item()
        return StepOutput(loss, {"correct": correct, "frames": valid.sum().item()})

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        return {"accuracy": ratio(counts["correct"], counts["frames"])}
