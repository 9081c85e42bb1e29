"""Phoneme recognition with CTC: greedy decoding, phone error rate by edit distance."""

from __future__ import annotations

from dataclasses import dataclass

import editdistance
import torch
import torch.nn.functional as F

from .data import Batch
from .data.labels import phone_sequence
from .expert import Expert, StepOutput, TaskContext, mlp, ratio

BLANK = 0  # phone id p is output class p + 1


@dataclass
class CTCConfig:
    hidden_layers: int = 1
    hidden_size: int = 256
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
    needs_phones = True
    phone_labels = "sequence"           # CTC needs the phones in order, not their timing
    split_policy = "disjoint_speakers"
    main_metric = "per"
    higher_is_better = False

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        if not context.corpus.phone_names:
            raise ValueError("phone recognition needs a phone list (data.phone_list)")
        c = self.config
        self.classifier = mlp(context.input_dim, len(context.corpus.phone_names) + 1, c.hidden_layers,
                              c.hidden_size, c.dropout)

    def targets(self, batch: Batch) -> list[list[int]]:
        """The corpus's phone sequences; frame labels (repeats merged, silence dropped) otherwise."""
        sequences = batch.phone_sequences or [None] * len(batch.phones)
        return [seq if seq is not None else phone_sequence(p, self.context.corpus.silence_ids)
                for seq, p in zip(sequences, batch.phones)]

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        refs = self.targets(batch)
        log_probs = F.log_softmax(self.classifier(features), dim=-1)
        flat = torch.tensor([p + 1 for seq in refs for p in seq], dtype=torch.long)
        target_lengths = torch.tensor([len(seq) for seq in refs], dtype=torch.long)
        # zero_infinity: an utterance with more phones than frames contributes nothing rather than inf
        loss = F.ctc_loss(log_probs.transpose(0, 1).float(), flat, lengths.cpu(), target_lengths,
                          blank=BLANK, zero_infinity=True)
        hyps = greedy_decode(log_probs.detach(), lengths)
        edits = sum(editdistance.eval(h, r) for h, r in zip(hyps, refs))
        return StepOutput(loss, {"edits": edits, "reference_phones": sum(len(r) for r in refs)})

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        return {"per": ratio(counts["edits"], counts["reference_phones"])}
