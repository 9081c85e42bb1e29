"""What a probing run is asked to do: the upstream, the task (phones or speakers), the probes and
layers, the data and the training settings, checked when made. Torch-free, so ``aalbert probe
--help`` shows these settings before torch is imported; read by the run (probing.py), by a probe's
training (probe.py) and by what the run writes (probe_results.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aalbert.downstream.config import DataConfig, DownstreamRunnerConfig
from aalbert.errors import BadInputError

# each probing task -> the downstream expert that trains its probes, as module:Class (as a task's
# config.yaml names it): the run imports it, so torch stays out of this module
PROBING_TASKS = {
    "phone": "aalbert.downstream.frame_classifier:FrameClassifierExpert",
    "speaker": "aalbert.downstream.speaker:SpeakerUtteranceExpert",
}
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

    def runner_config(self, batches_per_epoch: int) -> DownstreamRunnerConfig:
        """These settings as the downstream loop's: an epoch is ``batches_per_epoch`` steps."""
        total = self.epochs * batches_per_epoch
        return DownstreamRunnerConfig(
            total_steps=min(total, self.max_steps or total),
            eval_step=batches_per_epoch,
            log_step=batches_per_epoch,
            batch_size=self.batch_size,
            eval_batch_size=self.batch_size,
            gradient_clipping=0.0,  # no clipping
            patience=self.patience,
            save_minutes=0,
        )


def probe_depth(name: str) -> int:
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; choose from {', '.join(PROBES)}")
    return PROBES[name]


@dataclass
class ProbingConfig:
    upstream: str = "aalbert"
    ckpt: str | None = None
    task: str = "phone"  # one of PROBING_TASKS
    probes: list[str] = field(default_factory=lambda: list(PROBES))
    layers: list[int] | None = None  # hidden-state indices to probe; None = all
    data: DataConfig = field(default_factory=DataConfig)
    train: ProbeTrainConfig = field(default_factory=ProbeTrainConfig)
    cache_dir: str | None = None  # None = keep features in memory
    cache_check: Literal["quick", "full"] = "quick"  # as runner.feature_cache_check (downstream/config.py)
    extract_batch_size: int = 8
    device: str = "auto"

    def __post_init__(self):
        if self.task not in PROBING_TASKS:
            raise BadInputError(f"unknown probing task {self.task!r}; choose from {', '.join(PROBING_TASKS)}")
        if not self.probes:
            raise BadInputError("no probes given")
        for name in self.probes:
            probe_depth(name)
        if len(set(self.probes)) != len(self.probes):
            raise BadInputError(f"probes listed twice: {self.probes}")
        if self.cache_check not in ("quick", "full"):
            raise BadInputError(f"cache_check must be quick or full, got {self.cache_check!r}")
        if self.extract_batch_size < 1:
            raise BadInputError(f"extract_batch_size must be >= 1, got {self.extract_batch_size}")
