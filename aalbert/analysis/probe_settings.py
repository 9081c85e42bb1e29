"""What a probe is and how it trains, as settings: torch-free, so ``aalbert probe --help`` shows
them before torch is imported (the training itself: probe.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from aalbert.downstream.config import RunnerConfig

PROBING_TASKS = ("phone", "speaker")  # probing.py maps each to its downstream expert
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


def probe_depth(name: str) -> int:
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; choose from {', '.join(PROBES)}")
    return PROBES[name]
