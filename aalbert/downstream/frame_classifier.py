"""A reusable frame-level classification head, over any frame label (10 ms frame phones by default).

phone_linear / phone_1hidden / phone_2hidden are this head and differ only in ``hidden_layers``
(0, 1, 2), set in their config.yaml. Another frame label (``frame.NAME``: data.frame_labels or the
expert's ``frame_labels`` hook) is a subclass declaring it first in ``labels``, or a config naming it
(``labels: [frame.vad]``); its classes: ``context.label_names``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .data import Batch
from .data.labels import IGNORE_INDEX, labels_at_feature_rate
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .task_labels import FRAME_PHONES, present_labels


@dataclass
class FrameClassifierConfig(MLPHeadConfig):
    dropout: float = 0.1


class FrameClassifierExpert(Expert):
    Config = FrameClassifierConfig
    labels = (FRAME_PHONES,)  # the first is the frame label predicted
    split_policy = "disjoint_speakers"  # phones are tested on voices not heard in training
    main_metric = "accuracy"

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.label = self.labels[0]
        self.class_names = self.label_classes("classification")
        self.num_classes = self.output_classes = len(self.class_names)
        self.classifier = self.config.mlp(context.input_dim, self.num_classes)

    def frame_targets(self, batch: Batch) -> list[list[int]]:
        """A class id per 10 ms frame, per utterance (``batch.labels`` of the label: frame_phones or frame.NAME)."""
        if self.label in batch.labels:
            return [frames.tolist() for frames in batch.labels[self.label]]
        return [present_labels(FRAME_PHONES, phones, uttid) for phones, uttid in zip(batch.phones, batch.uttids)]

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        labels = labels_at_feature_rate(self.frame_targets(batch), lengths, self.context.stacking, batch.uttids).to(
            features.device
        )
        features = features[:, : labels.shape[1]]
        logits = self.classifier(features)
        loss = F.cross_entropy(logits.transpose(1, 2), labels, ignore_index=IGNORE_INDEX)
        valid = labels != IGNORE_INDEX
        correct = ((logits.argmax(-1) == labels) & valid).sum().item()
        return StepOutput(loss, {"correct": correct, "frames": valid.sum().item()}, logits)

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        return {"accuracy": ratio(counts["correct"], counts["frames"])}
