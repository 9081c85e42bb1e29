"""A reusable CTC head over any sequence label (phone sequences by default): greedy decoding,
error rate by edit distance. Another sequence label is a subclass declaring it first in ``labels``
and overriding ``targets``."""

from __future__ import annotations

from dataclasses import dataclass

import editdistance
import torch
import torch.nn.functional as F

from .data import Batch
from .data.labels import phone_sequence
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .task_labels import PHONE_SEQUENCE, present_labels

BLANK = 0  # phone id p is output class p + 1


@dataclass
class CTCConfig(MLPHeadConfig):
    hidden_layers: int = 1
    dropout: float = 0.1


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor) -> list[list[int]]:
    """Best path per utterance: argmax per frame, repeats merged, blanks dropped (phone ids)."""
    best = log_probs.argmax(-1).tolist()
    out = []
    for path, n in zip(best, lengths.tolist()):
        seq, previous = [], BLANK
        for p in path[:n]:
            if p != previous and p != BLANK:
                seq.append(p - 1)
            previous = p
        out.append(seq)
    return out


class PhoneCTCExpert(Expert):
    Config = CTCConfig
    labels = (PHONE_SEQUENCE,)  # the first is the sequence predicted; CTC needs the phones in order, not their timing
    split_policy = "disjoint_speakers"
    main_metric = "per"
    higher_is_better = False

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.label = self.labels[0]
        self.class_names = self.label_classes("recognition")
        self.output_classes = len(self.class_names) + 1  # + the CTC blank
        self.classifier = self.config.mlp(context.input_dim, self.output_classes)

    def targets(self, batch: Batch) -> list[list[int]]:
        """The corpus's phone sequences; frame labels (repeats merged, silence dropped) otherwise."""
        sequences = batch.phone_sequences or [None] * len(batch.phones)
        silence = self.context.corpus.silence_ids
        return [
            seq if seq is not None else phone_sequence(present_labels(self.label, frames, uttid), silence)
            for seq, frames, uttid in zip(sequences, batch.phones, batch.uttids)
        ]

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        refs = self.targets(batch)
        logits = self.classifier(features)
        log_probs = F.log_softmax(logits, dim=-1)
        flat = torch.tensor([p + 1 for seq in refs for p in seq], dtype=torch.long)
        target_lengths = torch.tensor([len(seq) for seq in refs], dtype=torch.long)
        # zero_infinity: an utterance with more phones than frames contributes nothing rather than inf
        loss = F.ctc_loss(
            log_probs.transpose(0, 1).float(), flat, lengths.cpu(), target_lengths, blank=BLANK, zero_infinity=True
        )
        hyps = greedy_decode(log_probs.detach(), lengths)
        edits = sum(editdistance.eval(h, r) for h, r in zip(hyps, refs))
        return StepOutput(loss, {"edits": edits, "reference_phones": sum(len(r) for r in refs)}, logits)

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        return {"per": ratio(counts["edits"], counts["reference_phones"])}
