"""Training one probe on one hidden state's frozen features, with the downstream training code.

A probe *is* a downstream model: no upstream (its features come from the feature cache the
probing run filled), a featurizer that selects the one hidden state, and the downstream expert
(``FrameClassifierExpert`` for phones, ``SpeakerUtteranceExpert`` for speakers) with
``hidden_layers`` 0, 1 or 2, so a probe's accuracy means exactly what the downstream task's
accuracy means (same label alignment, padding and pooling rules). It trains in the downstream
loop (``aalbert.downstream.training``: the downstream batch order, AdamW) and is scored by the
downstream evaluator, with the probe's settings: no gradient clipping, one dev evaluation per
epoch, early stopping after ``patience`` epochs without a better dev main metric, and the best
epoch's weights scored on test. No checkpoint is written: the best weights are kept in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from aalbert.downstream.data import UtteranceDataset
from aalbert.downstream.evaluation import evaluate, split_loader
from aalbert.downstream.expert import Expert, TaskContext
from aalbert.downstream.feature_cache import FeatureCache
from aalbert.downstream.featurizer import Featurizer
from aalbert.downstream.model import DownstreamModel
from aalbert.downstream.training import MemoryCheckpoints, epoch_loader, train_loop
from aalbert.training_loop import TrainingState

from .probe_config import ProbeTrainConfig

__all__ = ["ProbeResult", "ProbeTrainConfig", "train_probe"]  # ProbeTrainConfig: the settings train_probe takes


@dataclass
class ProbeResult:
    dev: dict[str, float]
    test: dict[str, float]
    best_epoch: int
    epochs_run: int
    steps: int


def train_probe(
    expert_class: type[Expert],
    context: TaskContext,
    depth: int,
    features: FeatureCache,
    layer: int,
    cfg: ProbeTrainConfig,
    device: torch.device | str = "cpu",
    desc: str = "probe",
    progress: bool = True,
    logdir: Path | None = None,
) -> ProbeResult:
    """Train a probe with ``depth`` hidden layers on hidden state ``layer`` of ``features`` (the
    utterances of ``context.corpus.splits``); pick the epoch by dev, score it on test. ``logdir``: its
    TensorBoard events (train loss, lr, accuracy per epoch; dev metrics)."""
    torch.manual_seed(cfg.seed)  # same initialisation for every layer: differences come from the features
    expert = expert_class(context, {"hidden_layers": depth, "hidden_size": cfg.hidden_size, "dropout": cfg.dropout})
    featurizer = Featurizer(features.num_hidden_states, "hidden_states", layer)
    model = DownstreamModel(None, featurizer, expert, finetune=False, feature_cache=features).to(device)
    corpus = context.corpus
    data = {
        split: UtteranceDataset(corpus.splits[split], corpus, with_audio=False) for split in ("train", "dev", "test")
    }
    batches_per_epoch = math.ceil(len(data["train"]) / cfg.batch_size)
    optimizer = torch.optim.AdamW(model.expert.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    dev = split_loader(data["dev"], cfg.batch_size, cfg.seed)
    best = MemoryCheckpoints()
    state = train_loop(
        model,
        model,
        optimizer,
        lambda epoch, position: epoch_loader(data["train"], cfg.batch_size, cfg.seed, epoch, position),
        cfg.runner_config(batches_per_epoch),
        TrainingState(),
        best,
        lambda: evaluate(model, dev, "dev", progress=False),
        logdir,
        desc=desc,
        progress=progress,
    )
    # train_loop evaluates dev at its last step at least, and a probe's accuracy is never NaN: a best exists
    assert best.best is not None and state.best_dev is not None
    model.load_trainable_state(best.best)
    test = evaluate(model, split_loader(data["test"], cfg.batch_size, cfg.seed), "test", progress=False)
    return ProbeResult(
        state.best_dev,
        test,
        math.ceil(state.best_step / batches_per_epoch),
        math.ceil(state.step / batches_per_epoch),
        state.step,
    )
