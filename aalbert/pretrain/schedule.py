"""Optimizer and learning-rate schedule: AdamW, linear warm-up then linear decay to zero."""

from __future__ import annotations

import torch
from torch import nn

from aalbert.pretrain.config import PretrainOptimizerConfig, PretrainRunnerConfig


class WarmupLinear:
    """LambdaLR factor: ``step / warmup`` for the first ``warmup`` steps, then linear decay to 0.

    A class rather than a closure so LambdaLR's state dict stores its (plain int) fields and a
    checkpoint restores it weights-only.
    """

    def __init__(self, warmup_steps: int, total_steps: int):
        self.warmup_steps = int(warmup_steps)
        self.total_steps = int(total_steps)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / (self.warmup_steps + 1)
        return max(0.0, (self.total_steps - step) / max(1, self.total_steps - self.warmup_steps))


def param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Decay matrices only: biases and LayerNorm weights (1-D) are not decayed."""
    decay: list[nn.Parameter] = []
    no_decay: list[nn.Parameter] = []
    for param in model.parameters():
        if param.requires_grad:
            (decay if param.dim() >= 2 else no_decay).append(param)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def build_optimizer(model: nn.Module, cfg: PretrainOptimizerConfig) -> torch.optim.Optimizer:
    groups = param_groups(model, cfg.weight_decay)
    # fused kernels (one op for all parameters) when this torch and device support them
    try:
        return torch.optim.AdamW(groups, lr=cfg.lr, fused=True)
    except (RuntimeError, ValueError):
        return torch.optim.AdamW(groups, lr=cfg.lr, foreach=True)


def build_scheduler(
    optimizer: torch.optim.Optimizer, cfg: PretrainOptimizerConfig, runner: PretrainRunnerConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    warmup = int(round(cfg.warmup_proportion * runner.total_steps))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, WarmupLinear(warmup, runner.total_steps))
