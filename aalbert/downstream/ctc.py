"""A reusable CTC head over any sequence label: phones, characters or words of the transcripts.

The head predicts the run's first label (``self.labels[0]``): ``phone_sequence`` (phone_ctc),
``sequence.characters`` (asr_ctc, as s3prl's ``asr``) or ``sequence.words``. Decoding is greedy
(``model.beam_size: 1``) or a prefix beam search without a language model
(:mod:`.ctc_decoding`); the error rates follow the label: phones give ``per``, characters ``cer``
and ``wer`` (the words are the characters between ``|``), words ``wer``. Each step counts edits
and reference lengths, so a split's rates are exact sums (:mod:`.metrics.error_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from aalbert.errors import TaskRequirementError

from .ctc_decoding import beam_search_decode
from .data import Batch
from .data.labels import phone_sequence
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext
from .metrics.error_rate import COUNT_KEYS, character_counts, edit_counts, error_rates, word_counts
from .task_labels import CHARACTERS, PHONE_SEQUENCE, WORDS, parse_label, present_labels

BLANK = 0  # symbol id s is output class s + 1


@dataclass
class CTCConfig(MLPHeadConfig):
    hidden_layers: int = 1
    dropout: float = 0.1
    # 1: greedy decoding; more: prefix beam search of this width on dev and test (training batches,
    # only logged, stay greedy)
    beam_size: int = 1

    def __post_init__(self):
        if self.beam_size < 1:
            raise ValueError(f"model.beam_size must be >= 1 (1 = greedy decoding), got {self.beam_size}")


class CTCExpert(Expert):
    """CTC over ``self.labels[0]``, a sequence label: phone_sequence (main metric ``per``),
    sequence.characters or sequence.words (``wer``)."""

    Config = CTCConfig
    labels = (PHONE_SEQUENCE,)  # the first is the sequence predicted; CTC needs the symbols in order, not their timing
    split_policy = "disjoint_speakers"
    main_metric = "per"
    higher_is_better = False

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.label = self.labels[0]
        if not parse_label(self.label).is_sequence:
            raise TaskRequirementError(
                f"a CTC head predicts a sequence label ({PHONE_SEQUENCE}, {CHARACTERS} or {WORDS}), not {self.label}"
            )
        # the metric follows the run's label (the runner reads it from the instance); a class's own
        # main_metric names it for its default label, for what reads the class before a run
        self.main_metric = "per" if self.label == PHONE_SEQUENCE else "wer"
        self.class_names = self.label_classes("recognition")
        self.output_classes = len(self.class_names) + 1  # + the CTC blank
        self.classifier = self.config.mlp(context.input_dim, self.output_classes)
        # words are scored against the transcripts: a reference word unseen in train is an error
        # whatever the head says, not a match with a predicted <unk>
        self.transcripts = (
            {u.uttid: list(u.words or []) for part in context.corpus.splits.values() for u in part}
            if self.label == WORDS
            else {}
        )

    def targets(self, batch: Batch) -> list[list[int]]:
        """Symbol ids per utterance (``batch.labels``); for phones without them, the corpus's phone
        sequences or the frame labels (repeats merged, silence dropped)."""
        values = batch.labels.get(self.label)
        if values is not None:
            return [[int(s) for s in seq] for seq in values]
        if self.label != PHONE_SEQUENCE:
            raise TaskRequirementError(f"the batch has no {self.label}; is it in the expert's labels?")
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
        flat = torch.tensor([s + 1 for seq in refs for s in seq], dtype=torch.long)
        target_lengths = torch.tensor([len(seq) for seq in refs], dtype=torch.long)
        # zero_infinity: an utterance with more symbols than frames contributes nothing rather than inf
        loss = F.ctc_loss(
            log_probs.transpose(0, 1).float(), flat, lengths.cpu(), target_lengths, blank=BLANK, zero_infinity=True
        )
        beam = 1 if self.training else self.config.beam_size
        hyps = [[c - 1 for c in seq] for seq in beam_search_decode(log_probs.detach(), lengths.cpu(), beam, BLANK)]
        return StepOutput(loss, self.error_counts(hyps, refs, batch.uttids), logits)

    def error_counts(self, hyps: list[list[int]], refs: list[list[int]], uttids: list[str]) -> dict[str, float]:
        """Edits and reference lengths for the label's error rates (symbol ids in, counts out)."""
        if self.label == PHONE_SEQUENCE:
            edits, length = edit_counts(hyps, refs)
            return {"edits": edits, "reference_phones": length}
        names = self.class_names
        hyp_symbols = [[names[s] for s in seq] for seq in hyps]
        if self.label == CHARACTERS:
            return dict(character_counts(hyp_symbols, [[names[s] for s in seq] for seq in refs]))
        return dict(word_counts(hyp_symbols, [self.transcripts[u] for u in uttids]))

    @staticmethod
    def metrics(counts: dict[str, float]) -> dict[str, float]:
        """The error rates whose counts the steps gave: per (phones), cer and wer (characters), wer (words)."""
        return error_rates(counts, [name for name, (_, length) in COUNT_KEYS.items() if length in counts])


class PhoneCTCExpert(CTCExpert):
    """phone_ctc: phone recognition, phone error rate (``per``)."""


class TranscriptCTCExpert(CTCExpert):
    """asr_ctc: recognition of the word transcripts, as characters (SUPERB ASR) or words
    (``-o labels=[sequence.words]``); ``wer`` picks the best checkpoint either way."""

    labels = (CHARACTERS,)
    main_metric = "wer"
