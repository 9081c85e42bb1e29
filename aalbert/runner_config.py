"""The training settings both loops share, with s3prl's names (``runner.*``, ``optimizer.*`` in
its pretraining and downstream recipes alike). Pretraining (aalbert.pretrain.config) and the
downstream tasks (aalbert.downstream.config) extend these two sections with what only they have;
a setting both loops have is spelled here, once. Torch-free: commands parse configs before torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass
class RunnerConfig:
    total_steps: int = 1000  # optimizer steps
    log_step: int = 50  # TensorBoard scalars (and the loss on the progress line) every N steps
    batch_size: int = 8  # utterances per (micro-)batch, per process under DDP
    num_workers: int = 0  # DataLoader worker processes reading audio
    gradient_clipping: float = 1.0  # max global gradient norm; <= 0: no clipping (the norm is still logged)
    save_minutes: float = 5.0  # also write a resumable checkpoint every N minutes of wall time (0: never)

    # settings a resumed run (-e) may change without becoming another experiment
    MAY_CHANGE_ON_RESUME: ClassVar[tuple[str, ...]] = ("total_steps", "log_step", "num_workers", "save_minutes")

    def __post_init__(self) -> None:
        for name in ("total_steps", "log_step", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"runner.{name} must be >= 1, got {getattr(self, name)}")
        if self.num_workers < 0:
            raise ValueError(f"runner.num_workers must be >= 0, got {self.num_workers}")
        if self.save_minutes < 0:
            raise ValueError(f"runner.save_minutes must be >= 0, got {self.save_minutes}")

    @classmethod
    def resume_may_change(cls) -> tuple[str, ...]:
        """The dotted keys (``runner.total_steps``, ...) a resume may change."""
        return tuple(f"runner.{name}" for name in cls.MAY_CHANGE_ON_RESUME)


@dataclass
class OptimizerConfig:
    lr: float = 1e-3
    weight_decay: float = 0.01  # AdamW's; pretraining spares biases and LayerNorm weights (BERT practice)

    def __post_init__(self) -> None:
        if not self.lr >= 0:  # 0: the weights stay (a baseline, a test of the loop)
            raise ValueError(f"optimizer.lr must be >= 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ValueError(f"optimizer.weight_decay must be >= 0, got {self.weight_decay}")
