"""The training loop: steps, logging, periodic dev evaluation, best/last checkpoints, exact resume."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from aalbert.errors import TaskRequirementError
from aalbert.pretrain import rng

from . import distributed as dist
from .checkpointing import BEST, LAST, save_checkpoint
from .config import RunnerConfig
from .model import DownstreamModel


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    position: int = 0  # training batches of the current epoch already consumed
    best_metric: float | None = None
    best_step: int = -1
    best_dev: dict | None = None

    def as_dict(self) -> dict:
        return {"step": self.step, "epoch": self.epoch, "position": self.position, "best_metric": self.best_metric,
                "best_step": self.best_step, "best_dev": self.best_dev}


class TrainingInterrupted(Exception):
    """SIGINT / SIGTERM during training: the state was saved to ``last.ckpt`` first."""

    def __init__(self, step: int, expdir: Path):
        self.step, self.expdir = step, expdir
        super().__init__(f"interrupted at step {step}; the state is saved in {expdir / LAST}: resume with "
                         f"run_downstream.py -m train -e {expdir}")


def is_better(value: float, best: float | None, higher_is_better: bool) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value > best if higher_is_better else value < best


def train_loop(model: DownstreamModel, train_model: nn.Module, optimizer: torch.optim.Optimizer,
               make_loader: Callable[[int, int], DataLoader], cfg: RunnerConfig, state: TrainState, expdir: Path,
               evaluate_dev: Callable[[], dict], writer=None) -> TrainState:
    """Train ``train_model`` (``model`` or its DDP wrapper) until ``cfg.total_steps``.

    ``make_loader(epoch, position)`` gives that epoch's batches from ``position`` on: the order
    is a function of (seed, epoch), so a resumed run sees the batches a straight run would.
    ``last.ckpt`` is written at every dev evaluation, every ``cfg.save_minutes`` of wall time,
    and on SIGINT/SIGTERM (then TrainingInterrupted is raised). Dev evaluation runs on rank 0
    only and its decision is broadcast, so every rank agrees on the best step.
    """
    expert = model.expert
    main_metric = type(expert).main_metric
    higher = type(expert).higher_is_better
    params = [p for p in train_model.parameters() if p.requires_grad]
    progress = tqdm(total=cfg.total_steps, initial=state.step, desc="train", disable=not dist.is_main())
    train_model.train()
    last_save = time.monotonic()
    try:
        while state.step < cfg.total_steps:
            for batch in make_loader(state.epoch, state.position):
                out = train_model(batch)
                optimizer.zero_grad(set_to_none=True)
                out.loss.backward()
                grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.gradient_clipping)
                if torch.isfinite(grad_norm):
                    optimizer.step()
                else:
                    # skipping keeps one bad batch from wiping the weights; say so, it should be rare
                    tqdm.write(f"step {state.step}: non-finite gradient norm, update skipped")
                state.step += 1
                state.position += 1
                progress.update(1)
                if writer is not None and state.step % cfg.log_step == 0:
                    writer.add_scalar("train/loss", out.loss.item(), state.step)
                    for key, value in type(expert).metrics(out.counts).items():
                        writer.add_scalar(f"train/{key}", value, state.step)
                    progress.set_postfix(loss=f"{out.loss.item():.3f}")
                if state.step % cfg.eval_step == 0 or state.step == cfg.total_steps:
                    _evaluate_and_save(model, optimizer, state, expdir, evaluate_dev, main_metric, higher, writer)
                    train_model.train()
                    last_save = time.monotonic()
                elif cfg.save_minutes and time.monotonic() - last_save >= 60 * cfg.save_minutes:
                    _save_last(model, optimizer, state, expdir)
                    last_save = time.monotonic()
                if state.step >= cfg.total_steps:
                    break
            else:
                state.epoch, state.position = state.epoch + 1, 0
    except KeyboardInterrupt:
        progress.close()
        _save_last(model, optimizer, state, expdir)
        raise TrainingInterrupted(state.step, expdir) from None
    finally:
        progress.close()  # an error's message must not land on the bar's line
    return state


def _checkpoint(model: DownstreamModel, optimizer, state: TrainState) -> dict:
    # the RNG too: dropout in the heads continues exactly where it stopped
    return {"model": model.trainable_state(), "optimizer": optimizer.state_dict(), "state": state.as_dict(),
            "rng": rng.capture()}


def _save_last(model: DownstreamModel, optimizer, state: TrainState, expdir: Path) -> None:
    if dist.is_main():
        save_checkpoint(_checkpoint(model, optimizer, state), expdir / LAST)


def _evaluate_and_save(model, optimizer, state: TrainState, expdir: Path, evaluate_dev, main_metric: str,
                       higher: bool, writer) -> None:
    update = None
    if dist.is_main():
        metrics = evaluate_dev()
        if writer is not None:
            for key, value in metrics.items():
                writer.add_scalar(f"dev/{key}", value, state.step)
        if main_metric not in metrics:
            raise TaskRequirementError(f"expert metrics {sorted(metrics)} lack its main metric {main_metric!r}")
        if is_better(metrics[main_metric], state.best_metric, higher):
            update = {"best_metric": metrics[main_metric], "best_step": state.step, "best_dev": metrics}
        tqdm.write(f"step {state.step} dev " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    update = dist.broadcast_object(update)
    if update:
        state.best_metric, state.best_step, state.best_dev = (update["best_metric"], update["best_step"],
                                                              update["best_dev"])
    if dist.is_main():
        ckpt = _checkpoint(model, optimizer, state)
        if update:
            save_checkpoint(ckpt, expdir / BEST)
        save_checkpoint(ckpt, expdir / LAST)
    dist.barrier()
