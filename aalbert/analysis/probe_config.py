"""What a probing run is asked to do: the upstream, the task (phones or speakers), the probes and
layers, the data and the training settings, checked when made. Read by the run (probing.py) and by
what it writes (probe_results.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aalbert.downstream.config import DataConfig
from aalbert.downstream.expert import Expert
from aalbert.downstream.frame_classifier import FrameClassifierExpert
from aalbert.downstream.speaker import SpeakerUtteranceExpert
from aalbert.errors import BadInputError

from .probe_settings import PROBES, ProbeTrainConfig, probe_depth

TASKS: dict[str, type[Expert]] = {"phone": FrameClassifierExpert, "speaker": SpeakerUtteranceExpert}


@dataclass
class ProbingConfig:
    upstream: str = "aalbert"
    ckpt: str | None = None
    task: Literal["phone", "speaker"] = "phone"
    probes: list[str] = field(default_factory=lambda: list(PROBES))
    layers: list[int] | None = None  # hidden-state indices to probe; None = all
    data: DataConfig = field(default_factory=DataConfig)
    train: ProbeTrainConfig = field(default_factory=ProbeTrainConfig)
    cache_dir: str | None = None  # None = keep features in memory
    cache_check: Literal["quick", "full"] = "quick"  # as runner.feature_cache_check (downstream/config.py)
    extract_batch_size: int = 8
    device: str = "auto"

    def __post_init__(self):
        if self.task not in TASKS:
            raise BadInputError(f"unknown probing task {self.task!r}; choose from {', '.join(TASKS)}")
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
