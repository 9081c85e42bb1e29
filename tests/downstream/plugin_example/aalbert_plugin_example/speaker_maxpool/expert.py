from dataclasses import dataclass

import torch.nn.functional as F
from torch import nn

from aalbert.downstream.expert import Expert as BaseExpert
from aalbert.downstream.expert import StepOutput, ratio, valid_mask


@dataclass
class Config:
    dropout: float = 0.0


class Expert(BaseExpert):
    Config = Config
    main_metric = "accuracy"

    def __init__(self, context, config):
        super().__init__(context, config)
        self.dropout = nn.Dropout(self.config.dropout)
        self.linear = nn.Linear(context.input_dim, len(context.corpus.speakers))

    def forward(self, features, lengths, batch):
        mask = valid_mask(lengths, features.shape[1]).unsqueeze(-1)
        pooled = features.masked_fill(~mask, float("-inf")).amax(dim=1)
        logits = self.linear(self.dropout(pooled))
        targets = batch.speakers.to(features.device)
        correct = (logits.argmax(-1) == targets).sum().item()
        return StepOutput(F.cross_entropy(logits, targets), {"correct": correct, "utterances": len(targets)})

    @staticmethod
    def metrics(counts):
        return {"accuracy": ratio(counts["correct"], counts["utterances"])}
