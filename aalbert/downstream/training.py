"""The training loop: steps, logging, periodic dev evaluation, best/last checkpoints."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from tqdm import tqdm

from . import distributed as dist
from .checkpointing import BEST, LAST, save_checkpoint
from .config import RunnerConfig
from .model import DownstreamModel

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    best_metric: float | None = None
    best_step: int = -1
    best_dev: dict | None = None

    def as_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "best_metric": self.best_metric,
                "best_step": self.best_step, "best_dev": self.best_dev}


def is_better(value: float, best: float | None, higher_is_better: bool) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value > best if higher_is_better else value < best


def train_loop(model: DownstreamModel, train_model: nn.Module, optimizer: torch.optim.Optimizer,
               loader: DataLoader, cfg: RunnerConfig, state: TrainState, expdir: Path,
               evaluate_dev: Callable[[], dict], writer=None) -> TrainState:
    """Train ``train_model`` (``model`` or its DDP wrapper) until ``cfg.total_steps``.

    Dev evaluation runs on rank 0 only and its decision is broadcast, so every rank agrees
    on the best step without gathering predictions.
    """
    expert = model.expert
    main_metric = type(expert).main_metric
    higher = type(expert).higher_is_better
    params = [p for p in train_model.parameters() if p.requires_grad]
    progress = tqdm(total=cfg.total_steps, initial=state.step, desc="train", disable=not dist.is_main())
    train_model.train()
    while state.step < cfg.total_steps:
        if isinstance(loader.sampler, DistributedSampler):
            loader.sampler.set_epoch(state.epoch)
        for batch in loader:
            out = train_model(batch)
            optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.gradient_clipping)
            if torch.isfinite(grad_norm):
                optimizer.step()
            else:
                # skipping keeps one bad batch from wiping the weights; say so, it should be rare
                log.warning("step %d: non-finite gradient norm, update skipped", state.step)
            state.step += 1
            progress.update(1)
            if writer is not None and state.step % cfg.log_step == 0:
                writer.add_scalar("train/loss", out.loss.item(), state.step)
                for key, value in type(expert).metrics(out.counts).items():
                    writer.add_scalar(f"train/{key}", value, state.step)
                progress.set_postfix(loss=f"{out.loss.item():.3f}")
            if state.step % cfg.eval_step == 0 or state.step == cfg.total_steps:
                _evaluate_and_save(model, optimizer, state, expdir, evaluate_dev, main_metric, higher, writer)
                train_model.train()
            if state.step >= cfg.total_steps:
                break
        else:
            state.epoch += 1
    progress.close()
    return state


def _evaluate_and_save(model, optimizer, state: TrainState, expdir: Path, evaluate_dev, main_metric: str,
                       higher: bool, writer) -> None:
    update = None
    if dist.is_main():
        metrics = evaluate_dev()
        if writer is not None:
            for key, value in metrics.items():
                writer.add_scalar(f"dev/{key}", value, state.step)
        if main_metric not in metrics:
            raise KeyError(f"expert metrics {sorted(metrics)} lack its main metric {main_metric!r}")
        if is_better(metrics[main_metric], state.best_metric, higher):
            update = {"best_metric": metrics[main_metric], "best_step": state.step, "best_dev": metrics}
        log.info("step %d dev %s", state.step, metrics)
    update = dist.broadcast_object(update)
    if update:
        state.best_metric, state.best_step, state.best_dev = (update["best_metric"], update["best_step"],
                                                              update["best_dev"])
    if dist.is_main():
        ckpt = {"model": model.trainable_state(), "optimizer": optimizer.state_dict(), "state": state.as_dict()}
        if update:
            save_checkpoint(ckpt, expdir / BEST)
        save_checkpoint(ckpt, expdir / LAST)
    dist.barrier()
