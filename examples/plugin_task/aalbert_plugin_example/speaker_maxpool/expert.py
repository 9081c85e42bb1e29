"""speaker_maxpool: speaker identification from max-pooled features, written against the expert
contract directly (see docs/adding_a_task.md; the reusable heads of aalbert.downstream would
make this a few lines, as in aalbert's own speaker_gender task)."""

from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from aalbert.downstream.expert import Expert as BaseExpert
from aalbert.downstream.expert import StepOutput, ratio, valid_mask


@dataclass
class Config:  # the task's `model:` section; an unknown key is an error
    dropout: float = 0.0


class Expert(BaseExpert):
    Config = Config
    # what the task reads, said once: the corpus loader and the checks before training follow from it
    labels = ("speaker",)  # the classes are the speakers (batch.speakers: indices into context.corpus.speakers)
    split_policy = "per_speaker"  # each speaker's utterances 8:1:1: every dev/test speaker is in train
    main_metric = "accuracy"  # a key of metrics(): picks the best checkpoint on dev
    higher_is_better = True

    def __init__(self, context, config):
        super().__init__(context, config)
        self.output_classes = len(context.corpus.speakers)  # checked against the logits on the first batch
        self.dropout = nn.Dropout(self.config.dropout)
        self.linear = nn.Linear(context.input_dim, self.output_classes)

    def forward(self, features, lengths, batch):
        mask = valid_mask(lengths, features.shape[1]).unsqueeze(-1)
        pooled = features.masked_fill(~mask, float("-inf")).amax(dim=1)  # padding never wins the max
        logits = self.linear(self.dropout(pooled))
        targets = batch.speakers.to(features.device)
        correct = (logits.argmax(-1) == targets).sum().item()
        # counts, not metrics: they add up exactly over batches and processes
        return StepOutput(F.cross_entropy(logits, targets), {"correct": correct, "utterances": len(targets)}, logits)

    @staticmethod
    def metrics(counts):
        # also called on single training batches for logging: a count may be missing or zero
        return {"accuracy": ratio(counts.get("correct", 0), counts.get("utterances", 0))}
