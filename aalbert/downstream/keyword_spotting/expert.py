"""keyword_spotting: SUPERB KS, the utterance's keyword (``utterance.keyword`` from the
speech_commands reader: ten keywords, ``_unknown_``, ``_silence_``) from pooled features.

The reusable utterance classifier with two things SUPERB does. s3prl draws its training batches so
that every class is equally likely (a weighted sampler), though ``_unknown_`` holds most of the
corpus; weighing each class's loss by the inverse of its train count (``model.balance_classes``)
gives the same expected gradient with the runner's plain shuffling. And its dev accuracy is taken
on a class-balanced draw of dev, whose expectation is the mean of the per-class accuracies:
``balanced_accuracy``, reported beside the plain ``accuracy`` (the test archive is balanced already).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from aalbert.downstream.data import Batch
from aalbert.downstream.expert import StepOutput, TaskContext, ratio
from aalbert.downstream.task_labels import metadata_value, utterance_field
from aalbert.downstream.utterance_classifier import UtteranceClassifierConfig, UtteranceClassifierExpert
from aalbert.errors import TaskRequirementError


@dataclass
class KeywordSpottingConfig(UtteranceClassifierConfig):
    # weigh each class by the inverse of its train count: SUPERB's class-even sampling, in expectation
    balance_classes: bool = True


class Expert(UtteranceClassifierExpert):
    Config = KeywordSpottingConfig
    labels = (utterance_field("keyword"),)
    # the corpus's own lists are the split (whole speakers); without them, test voices stay unseen too
    split_policy = "disjoint_speakers"
    class_weights: torch.Tensor  # a buffer: one weight per class, in class_names order

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        weights = self._class_weights() if self.config.balance_classes else torch.ones(len(self.class_names))
        # not saved: derived from the corpus, and checkpoints stay those of the plain classifier
        self.register_buffer("class_weights", weights, persistent=False)

    def _class_weights(self) -> torch.Tensor:
        corpus = self.context.corpus
        train = corpus.splits["train"]
        counts = Counter(metadata_value(corpus, self.label, u.uttid, u.speaker) for u in train)
        missing = [name for name in self.class_names if not counts[name]]
        if missing:  # a class never trained on cannot be weighed (or learnt)
            raise TaskRequirementError(f"no train utterance has {self.label} {', '.join(missing)}")
        total = sum(counts[name] for name in self.class_names)
        return torch.tensor([total / (len(self.class_names) * counts[name]) for name in self.class_names])

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        out = super().forward(features, lengths, batch)
        assert out.logits is not None  # the classifier always returns its logits
        targets = self.targets(batch, features.device)
        out.loss = F.cross_entropy(out.logits, targets, weight=self.class_weights)
        predicted = out.logits.argmax(-1)
        for index in targets.unique().tolist():  # per-class counts, for balanced_accuracy
            mine = targets == index
            out.counts[f"utterances.{index}"] = int(mine.sum())
            out.counts[f"correct.{index}"] = int((predicted[mine] == index).sum())
        return out

    def metrics(self, counts: dict[str, Any]) -> dict[str, float]:
        present = [i for i in range(len(self.class_names)) if counts.get(f"utterances.{i}", 0)]
        recalls = [ratio(counts.get(f"correct.{i}", 0), counts[f"utterances.{i}"]) for i in present]
        return {
            "accuracy": ratio(counts.get("correct", 0), counts.get("utterances", 0)),
            # the mean accuracy over the classes the split holds
            "balanced_accuracy": sum(recalls) / len(recalls) if recalls else 0.0,
        }
