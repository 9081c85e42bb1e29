"""Speaker identification experts: one label per utterance (the reusable utterance classifier) or per frame."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from aalbert.padding import valid_mask

from .data import Batch
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .task_labels import SPEAKER
from .utterance_classifier import UtteranceClassifierExpert


class SpeakerUtteranceExpert(UtteranceClassifierExpert):
    """Mean of the valid frames (or attentive statistics) -> classifier over the corpus' speakers."""

    labels = (SPEAKER,)


class SpeakerFrameExpert(Expert):
    """Per-frame classifier; utterance decision by the mean log-probability over its frames."""

    Config = MLPHeadConfig
    labels = (SPEAKER,)
    main_metric = "frame_accuracy"

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.output_classes = len(context.corpus.speakers)
        self.classifier = self.config.mlp(context.input_dim, self.output_classes)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        mask = valid_mask(lengths, features.shape[1])
        targets = batch.speakers.to(features.device)
        logits = self.classifier(features)  # (B, T, S)
        frame_targets = targets[:, None].expand_as(mask)
        loss = F.cross_entropy(logits[mask], frame_targets[mask])
        frame_correct = ((logits.argmax(-1) == frame_targets) & mask).sum().item()
        log_probs = F.log_softmax(logits, dim=-1) * mask.unsqueeze(-1)
        utt_scores = log_probs.sum(1) / lengths.clamp(min=1).unsqueeze(-1).to(log_probs.dtype)
        utt_correct = (utt_scores.argmax(-1) == targets).sum().item()
        return StepOutput(
            loss,
            {
                "frame_correct": frame_correct,
                "frames": mask.sum().item(),
                "utterance_correct": utt_correct,
                "utterances": len(targets),
            },
            logits,
        )

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        return {
            "frame_accuracy": ratio(counts["frame_correct"], counts["frames"]),
            "utterance_accuracy": ratio(counts["utterance_correct"], counts["utterances"]),
        }
