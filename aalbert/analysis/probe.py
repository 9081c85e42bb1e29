"""Training one probe on one hidden state's frozen features, with the downstream training code.

A probe *is* a downstream model: no upstream (its features come from the feature cache the
probing run filled), a featurizer that selects the one hidden state, and the downstream expert
(``FrameClassifierExpert`` for phones, ``SpeakerUtteranceExpert`` for speakers) with
``hidden_layers`` 0, 1 or 2, so a probe's accuracy means exactly what the downstream task's
accuracy means (same label alignment, padding and pooling rules). It trains in the downstream
loop (``aalbert.downstream.training``: the downstream batch order, AdamW) and is scored by the
downstream evaluator, with the probe's settings: no gradient clipping, one dev evaluation per
epoch, early stopping after ``patience`` epochs without a better dev main metric, and the best
epoch's weights scored on test. Nothing is written: the best weights are kept in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from aalbert.downstream.config import RunnerConfig
from aalbert.downstream.data import UtteranceDataset
from aalbert.downstream.evaluation import evaluate, split_loader
from aalbert.downstream.expert import Expert, TaskContext
from aalbert.downstream.feature_cache import FeatureCache
from aalbert.downstream.featurizer import Featurizer
from aalbert.downstream.model import DownstreamModel
from aalbert.downstream.training import MemoryCheckpoints, TrainState, epoch_loader, train_loop

PROBES = {"linear": 0, "1hidden": 1, "2hidden": 2}  # name -> hidden layers


@dataclass
class ProbeTrainConfig:
    epochs: int = 20
    max_steps: int | None = None  # stop after this many updates in total, whatever the epoch
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 3  # epochs without dev improvement before stopping
    hidden_size: int = 256
    dropout: float = 0.1
    seed: int = 1337

    def __post_init__(self):
        for name in ("epochs", "batch_size", "patience", "hidden_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")

    def runner_config(self, batches_per_epoch: int) -> RunnerConfig:
        """These settings as the downstream loop's: an epoch is ``batches_per_epoch`` steps."""
        total = self.epochs * batches_per_epoch
        return RunnerConfig(
            total_steps=min(total, self.max_steps or total),
            eval_step=batches_per_epoch,
            log_step=batches_per_epoch,
            batch_size=self.batch_size,
            eval_batch_size=self.batch_size,
            gradient_clipping=math.inf,
            patience=self.patience,
            save_minutes=0,
        )


@dataclass
class ProbeResult:
    dev: dict[str, float]
    test: dict[str, float]
    best_epoch: int
    epochs_run: int
    steps: int


def probe_depth(name: str) -> int:
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; choose from {', '.join(PROBES)}")
    return PROBES[name]


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
) -> ProbeResult:
    """Train a probe with ``depth`` hidden layers on hidden state ``layer`` of ``features`` (the
    utterances of ``context.corpus.splits``); pick the epoch by dev, score it on test."""
    torch.manual_seed(cfg.seed)  # same initialisation for every layer: differences come from the features
    expert = expert_class(context, {"hidden_layers": depth, "hidden_size": cfg.hidden_size, "dropout": cfg.dropout})
    featurizer = Featurizer(features.num_hidden_states, "hidden_states", layer)
    model = DownstreamModel(None, featurizer, expert, finetune=False, feature_cache=features).to(device)
    corpus = context.corpus
    data = {
        split: UtteranceDataset(corpus.splits[split], corpus.speaker_index, with_audio=False)
        for split in ("train", "dev", "test")
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
        TrainState(),
        best,
        lambda: evaluate(model, dev, "dev", show_progress=False),
        desc=desc,
        show_progress=progress,
    )
    # train_loop evaluates dev at its last step at least, and a probe's accuracy is never NaN: a best exists
    assert best.best is not None and state.best_dev is not None
    model.load_trainable_state(best.best)
    test = evaluate(model, split_loader(data["test"], cfg.batch_size, cfg.seed), "test", show_progress=False)
    return ProbeResult(
        state.best_dev,
        test,
        math.ceil(state.best_step / batches_per_epoch),
        math.ceil(state.step / batches_per_epoch),
        state.step,
    )
