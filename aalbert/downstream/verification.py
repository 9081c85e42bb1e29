"""Speaker verification (SUPERB SV): an utterance embedding scored by cosine similarity on trials.

Pooling (attentive statistics by default) -> MLP -> an embedding of ``embedding_size``, trained as a
classifier over the *training* speakers only; dev and test speakers are voices the head never trained
on (VoxCeleb1's trial speakers; ``split_policy = "disjoint_speakers"`` elsewhere). In evaluation each
utterance's embedding is collected (counts ``{"embeddings": [(uttid, [floats])]}``, concatenated over
the split) and :meth:`SpeakerVerificationExpert.metrics` scores the trials whose two utterances were
collected: the equal error rate (``eer``, the main metric, lower is better) and ``min_dcf``
(:mod:`aalbert.downstream.metrics.verification`).

The trials: test uses the corpus's own list when it has one (VoxCeleb1's ``veri_test2.txt``, read
and checked by the reader, which also made the test split from it), dev uses seeded generated trials
among the dev utterances (every utterance against one other of its speaker and one of another
speaker: balanced), as does test on a corpus without a list. Dev and test utterances are disjoint,
so whichever split is evaluated, the trials whose utterances were collected are that split's.

The head declares no label: ``speaker`` would make every dev/test speaker a class and so force them
into train. It reads ``batch.speakers`` (an index into ``corpus.speakers``) through its own index of
the training speakers, and utterances of other speakers do not count in the loss.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from aalbert.errors import TaskRequirementError

from .data import Batch
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext, ratio
from .metrics.verification import C_FA, C_MISS, P_TARGET, equal_error_rate, min_dcf
from .pooling import make_pooling

Trial = tuple[int, str, str]  # (1 same speaker / 0 not, uttid, uttid)


@dataclass
class SpeakerVerificationConfig(MLPHeadConfig):
    pooling: str = "attentive"  # "attentive" (attentive statistics) or "mean"
    hidden_layers: int = 1  # MLP layers before the embedding
    embedding_size: int = 256
    # Additive-margin softmax (Wang et al., 2018; s3prl's SV default) scores the training speakers by the
    # cosine of the embedding and a speaker's weight, less ``margin`` for the true speaker: it trains the
    # very similarity trials are scored with, and the margin makes each voice's embeddings cluster tighter
    # than a plain softmax needs to, which is what unseen voices need. "softmax": a plain linear classifier.
    loss: Literal["am_softmax", "softmax"] = "am_softmax"
    margin: float = 0.2
    scale: float = 30.0
    trial_seed: int = 0  # the generated trials (dev; test without a trial list)
    p_target: float = P_TARGET  # min_dcf's prior of a target trial (VoxCeleb: 0.01)
    c_miss: float = C_MISS
    c_fa: float = C_FA


class SpeakerVerificationExpert(Expert):
    Config = SpeakerVerificationConfig
    labels = ()  # batch.speakers only (see the module's docstring)
    split_policy = "disjoint_speakers"  # test voices unseen; VoxCeleb1's partition says so itself
    main_metric = "eer"
    higher_is_better = False
    train_index: torch.Tensor  # corpus speaker index -> training speaker index, -1 for the others

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        corpus = context.corpus
        train = sorted({u.speaker for u in corpus.splits["train"]})
        if len(train) < 2:
            raise TaskRequirementError(f"task {context.task}: speaker verification trains on 2 or more speakers")
        # corpus speaker index -> training speaker index (-1: not trained on, left out of the loss)
        position = {s: i for i, s in enumerate(train)}
        self.register_buffer(
            "train_index", torch.tensor([position.get(s, -1) for s in corpus.speakers]), persistent=False
        )
        self.output_classes = len(train)
        self.pooling = make_pooling(self.config.pooling, context.input_dim)
        self.embedding = self.config.mlp(self.pooling.output_dim, self.config.embedding_size)
        self.speaker_weights = nn.Parameter(torch.randn(len(train), self.config.embedding_size) * 0.01)
        check_unseen_voices(context)
        self.trials = task_trials(context, self.config.trial_seed)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        embeddings = self.embedding(self.pooling(features, lengths))
        targets = self.train_index[batch.speakers.to(features.device)]
        if self.config.loss == "am_softmax":
            logits = F.linear(F.normalize(embeddings, dim=-1), F.normalize(self.speaker_weights, dim=-1))
            margin = self.config.margin * F.one_hot(targets.clamp(min=0), logits.shape[-1]) * (targets >= 0)[:, None]
            scaled = self.config.scale * (logits - margin)
        else:
            logits = scaled = F.linear(embeddings, self.speaker_weights)
        trained = targets >= 0
        # dev/test utterances are other voices: no loss (zero, but still part of the graph)
        loss = F.cross_entropy(scaled[trained], targets[trained]) if trained.any() else scaled.sum() * 0.0
        counts: dict[str, Any] = {}
        if self.training:
            correct = (logits[trained].argmax(-1) == targets[trained]).sum().item()
            counts.update(correct=correct, utterances=int(trained.sum()))
        else:
            vectors = embeddings.detach().float().cpu().tolist()
            counts["embeddings"] = list(zip(batch.uttids, vectors))
        return StepOutput(loss, counts, logits)

    def metrics(self, counts: dict[str, Any]) -> dict[str, float]:
        out: dict[str, float] = {}
        if counts.get("utterances"):  # training batches: accuracy over the training speakers
            out["accuracy"] = ratio(counts.get("correct", 0), counts["utterances"])
        if "embeddings" in counts:
            out.update(self.score(dict(counts["embeddings"])))
        return out

    def score(self, embeddings: dict[str, Sequence[float]]) -> dict[str, float]:
        """EER and minDCF of the trials whose two utterances have an embedding."""
        kept = [t for t in self.trials if t[1] in embeddings and t[2] in embeddings]
        labels = [t[0] for t in kept]
        if not kept or all(labels) or not any(labels):
            # one evaluation batch (the check before training) may hold no full trial: the worst values,
            # so that such an evaluation is never the best
            return {"eer": 1.0, "min_dcf": 1.0, "trials": float(len(kept))}
        scores = cosine_scores(embeddings, kept)
        cfg = self.config
        return {
            "eer": equal_error_rate(scores, labels),
            "min_dcf": min_dcf(scores, labels, cfg.p_target, cfg.c_miss, cfg.c_fa),
            "trials": float(len(kept)),
        }


def cosine_scores(embeddings: dict[str, Sequence[float]], trials: Sequence[Trial]) -> np.ndarray:
    names = sorted({u for _, a, b in trials for u in (a, b)})
    row = {u: i for i, u in enumerate(names)}
    matrix = np.asarray([embeddings[u] for u in names], dtype=np.float64)
    matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    first = matrix[[row[a] for _, a, _ in trials]]
    second = matrix[[row[b] for _, _, b in trials]]
    return (first * second).sum(axis=1)


def generated_trials(speaker_of: dict[str, str], seed: int) -> list[Trial]:
    """Every utterance against another of its speaker (when there is one) and one of another speaker,
    drawn with ``seed``: as many target as non-target trials, as in VoxCeleb1's list."""
    by_speaker: dict[str, list[str]] = {}
    for uttid in sorted(speaker_of):
        by_speaker.setdefault(speaker_of[uttid], []).append(uttid)
    speakers = sorted(by_speaker)
    rng = random.Random(f"verification-trials:{seed}")
    trials: list[Trial] = []
    for speaker in speakers:
        others = [s for s in speakers if s != speaker]
        for uttid in by_speaker[speaker]:
            same = [u for u in by_speaker[speaker] if u != uttid]
            if same:
                trials.append((1, uttid, rng.choice(same)))
            if others:
                trials.append((0, uttid, rng.choice(by_speaker[rng.choice(others)])))
    return trials


def check_unseen_voices(context: TaskContext) -> None:
    """Verification tests voices never trained on: a dev or test speaker in train is an error."""
    train = {u.speaker for u in context.corpus.splits["train"]}
    for split in ("dev", "test"):
        heard = sorted({u.speaker for u in context.corpus.splits[split]} & train)
        if heard:
            raise TaskRequirementError(
                f"task {context.task}: {len(heard)} {split} speaker(s) are also in train (e.g. {', '.join(heard[:3])}); "
                "speaker verification scores unseen voices: use speaker-disjoint splits "
                "(data.split_policy=disjoint_speakers, or VoxCeleb1's data.options.protocol=verification)"
            )


def task_trials(context: TaskContext, seed: int) -> list[Trial]:
    """Dev's generated trials and test's: the corpus's own list, else generated."""
    corpus = context.corpus
    trials: list[Trial] = []
    for split in ("dev", "test"):
        utterances = corpus.splits[split]
        given = corpus_trials(context) if split == "test" else None
        if given is None:
            part = generated_trials({u.uttid: u.speaker for u in utterances}, seed)
        else:
            collected = {u.uttid for u in utterances}  # an utterance left out as bad audio takes its trials along
            part = [t for t in given if t[1] in collected and t[2] in collected]
        labels = {t[0] for t in part}
        if labels != {0, 1}:
            raise TaskRequirementError(
                f"task {context.task}: the {split} split ({len(utterances)} utterances of "
                f"{len({u.speaker for u in utterances})} speakers) gives no "
                f"{'same-speaker' if 1 not in labels else 'different-speaker'} trials to score"
            )
        trials += part
    return trials


def corpus_trials(context: TaskContext) -> list[Trial] | None:
    """The trial list the corpus brings (VoxCeleb1 verification: ``data.options.trials``), or None.

    The reader read and checked it and made the test split from it, so the trials travel with the
    corpus (``corpus.trials``) rather than being read again here: one file, chosen by one option, gives
    both the test split and its trials, and the head needs no file names (another reader's list, a
    Kaldi ``trials`` file, feeds it the same way)."""
    return list(context.corpus.trials) or None
