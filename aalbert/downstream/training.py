"""The training loop of downstream tasks and probes: steps, logging, periodic dev evaluation, best/last
checkpoints, early stopping, exact resume."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader
from tqdm import tqdm

from aalbert import distributed as dist
from aalbert import rng
from aalbert.errors import TaskRequirementError
from aalbert.progress_bars import progress_bars

from .checkpointing import BEST, LAST, save_checkpoint
from .config import RunnerConfig
from .data import UtteranceDataset, collate
from .model import DownstreamModel
from .sampling import EpochBatchSampler, epoch_generator


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    position: int = 0  # training batches of the current epoch already consumed
    best_metric: float | None = None
    best_step: int = -1
    best_dev: dict[str, float] | None = None
    evals_since_best: int = 0  # dev evaluations since the best one (early stopping: runner.patience)

    def as_dict(self) -> dict:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "position": self.position,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "best_dev": self.best_dev,
            "evals_since_best": self.evals_since_best,
        }


class MemoryCheckpoints:
    """Where a short in-process run (a probe) keeps its checkpoints instead of an experiment folder:
    the best weights only, in memory (such a run is redone from the start, never resumed)."""

    def __init__(self) -> None:
        self.best: dict[str, dict] | None = None  # DownstreamModel.trainable_state() of the best dev evaluation


class TrainingInterrupted(Exception):
    """SIGINT / SIGTERM during training: the state was saved to ``last.ckpt`` first."""

    def __init__(self, step: int, expdir: Path):
        self.step, self.expdir = step, expdir
        # the command adds how to resume, in the name it was invoked by (aalbert downstream, run_downstream.py)
        super().__init__(f"interrupted at step {step}; the state is saved in {expdir / LAST}")


def is_better(value: float, best: float | None, higher_is_better: bool) -> bool:
    if best is None or math.isnan(best):
        return not math.isnan(value)
    return value > best if higher_is_better else value < best


def epoch_loader(
    dataset: UtteranceDataset, batch_size: int, seed: int, epoch: int, position: int = 0, num_workers: int = 0
) -> DataLoader:
    """Epoch ``epoch``'s training batches from batch ``position`` on (this rank's share); the order
    depends only on (seed, epoch), so a resumed run continues with the batches a straight run would see."""
    sampler = EpochBatchSampler(len(dataset), batch_size, seed, epoch, position, dist.rank(), dist.world_size())
    # its own generator: worker seeds must not be drawn from the global RNG either
    return DataLoader(
        dataset,
        batch_sampler=sampler,
        collate_fn=collate,
        num_workers=num_workers,
        generator=epoch_generator(seed + 1, epoch),
    )


def patience_spent(cfg: RunnerConfig, state: TrainState) -> bool:
    return cfg.patience is not None and state.evals_since_best >= cfg.patience


def train_loop(
    model: DownstreamModel,
    train_model: nn.Module,
    optimizer: torch.optim.Optimizer,
    make_loader: Callable[[int, int], DataLoader],
    cfg: RunnerConfig,
    state: TrainState,
    checkpoints: Path | MemoryCheckpoints,
    evaluate_dev: Callable[[], dict],
    writer=None,
    desc: str = "train",
    show_progress: bool = True,
) -> TrainState:
    """Train ``train_model`` (``model`` or its DDP wrapper) until ``cfg.total_steps``, or until
    ``cfg.patience`` dev evaluations in a row bring no better main metric.

    ``make_loader(epoch, position)`` gives that epoch's batches from ``position`` on (see
    :func:`epoch_loader`). In an experiment folder (``checkpoints``), ``last.ckpt`` is written at every
    dev evaluation, every ``cfg.save_minutes`` of wall time, and on SIGINT/SIGTERM (then
    TrainingInterrupted is raised), ``best.ckpt`` at every better one; a MemoryCheckpoints keeps
    the best weights only. Dev evaluation runs on rank 0 only and its decision is broadcast, so
    every rank agrees on the best step. ``show_progress`` False: no bar, no dev lines.
    """
    params = [p for p in train_model.parameters() if p.requires_grad]
    progress = tqdm(
        total=cfg.total_steps,
        initial=state.step,
        desc=desc,
        disable=not (show_progress and dist.is_main() and progress_bars()),
    )
    train_model.train()
    last_save = time.monotonic()
    try:
        while state.step < cfg.total_steps and not patience_spent(cfg, state):
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
                    for key, value in type(model.expert).metrics(out.counts).items():
                        writer.add_scalar(f"train/{key}", value, state.step)
                    progress.set_postfix(loss=f"{out.loss.item():.3f}")
                if state.step % cfg.eval_step == 0 or state.step == cfg.total_steps:
                    _evaluate_and_save(model, optimizer, state, checkpoints, evaluate_dev, writer, show_progress)
                    train_model.train()
                    last_save = time.monotonic()
                elif cfg.save_minutes and time.monotonic() - last_save >= 60 * cfg.save_minutes:
                    _save_last(model, optimizer, state, checkpoints)
                    last_save = time.monotonic()
                if state.step >= cfg.total_steps or patience_spent(cfg, state):
                    break
            else:
                state.epoch, state.position = state.epoch + 1, 0
    except KeyboardInterrupt:
        progress.close()
        if isinstance(checkpoints, MemoryCheckpoints):
            raise
        _save_last(model, optimizer, state, checkpoints)
        raise TrainingInterrupted(state.step, checkpoints) from None
    finally:
        progress.close()  # an error's message must not land on the bar's line
    return state


def _checkpoint(model: DownstreamModel, optimizer, state: TrainState) -> dict:
    # the RNG too: dropout in the heads continues exactly where it stopped
    return {
        "model": model.trainable_state(),
        "optimizer": optimizer.state_dict(),
        "state": state.as_dict(),
        "rng": rng.capture(),
    }


def _save_last(model: DownstreamModel, optimizer, state: TrainState, checkpoints: Path | MemoryCheckpoints) -> None:
    if dist.is_main() and not isinstance(checkpoints, MemoryCheckpoints):
        save_checkpoint(_checkpoint(model, optimizer, state), checkpoints / LAST)


def _evaluate_and_save(
    model: DownstreamModel,
    optimizer,
    state: TrainState,
    checkpoints: Path | MemoryCheckpoints,
    evaluate_dev,
    writer,
    show_progress: bool,
) -> None:
    main_metric, higher = type(model.expert).main_metric, type(model.expert).higher_is_better
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
        if show_progress:
            tqdm.write(f"step {state.step} dev " + ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()))
    update = dist.broadcast_object(update)
    state.evals_since_best = 0 if update else state.evals_since_best + 1
    if update:
        state.best_metric, state.best_step, state.best_dev = (
            update["best_metric"],
            update["best_step"],
            update["best_dev"],
        )
    if isinstance(checkpoints, MemoryCheckpoints):
        if update:
            checkpoints.best = copy.deepcopy(model.trainable_state())
    elif dist.is_main():
        ckpt = _checkpoint(model, optimizer, state)
        if update:
            save_checkpoint(ckpt, checkpoints / BEST)
        save_checkpoint(ckpt, checkpoints / LAST)
    dist.barrier()
