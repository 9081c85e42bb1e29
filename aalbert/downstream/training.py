"""The training loop of downstream tasks and probes: steps, logging, periodic dev evaluation, best/last
checkpoints, early stopping, exact resume. Its conventions are pretraining's (aalbert.training_loop):
the ``runner`` settings, the non-finite policy, SIGINT/SIGTERM, the TrainingState."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from aalbert import distributed as dist
from aalbert import rng
from aalbert.atomic import torch_save_atomic
from aalbert.errors import TaskRequirementError
from aalbert.step_checkpoints import checkpoint_path, list_checkpoints, prune
from aalbert.training_log import TrainingLog
from aalbert.training_loop import NonFiniteSteps, TrainingInterrupted, TrainingState, clip_gradients, stop_on_signals

from .config import DownstreamRunnerConfig
from .data import UtteranceDataset, collate
from .expert import add_counts
from .model import DownstreamModel
from .sampling import EpochBatchSampler, epoch_generator

BEST = "dev-best.ckpt"  # best dev metric: what evaluation uses (s3prl's name for it)
PREVIOUS_BEST = "best.ckpt"  # the previous release's name for it: its folders are evaluated from it
PREVIOUS_LAST = "last.ckpt"  # the previous release's resume file: its folders resume from it


def latest_state(expdir: Path) -> Path | None:
    """What a resume reads: the newest ``states-STEP.ckpt`` (s3prl's name; plain tensors and numbers,
    read back weights-only), or the previous release's ``last.ckpt``; None in a folder with neither."""
    found = list_checkpoints(expdir)
    if found:
        return found[-1]
    previous = Path(expdir) / PREVIOUS_LAST
    return previous if previous.is_file() else None


def best_checkpoint(expdir: Path) -> Path:
    """The best dev checkpoint of an experiment folder: ``dev-best.ckpt``, or the previous release's
    ``best.ckpt`` in a folder that release trained (a run continued here writes dev-best.ckpt once a dev
    evaluation beats it, and that one is the best then)."""
    best = Path(expdir) / BEST
    return best if best.is_file() or not (Path(expdir) / PREVIOUS_BEST).is_file() else Path(expdir) / PREVIOUS_BEST


class MemoryCheckpoints:
    """Where a short in-process run (a probe) keeps its checkpoints instead of an experiment folder:
    the best weights only, in memory (such a run is redone from the start, never resumed)."""

    def __init__(self) -> None:
        self.best: dict[str, dict] | None = None  # DownstreamModel.trainable_state() of the best dev evaluation


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


def patience_spent(cfg: DownstreamRunnerConfig, state: TrainingState) -> bool:
    return cfg.patience is not None and state.evals_since_best >= cfg.patience


def learning_rates(optimizer: torch.optim.Optimizer) -> dict[str, float]:
    """``lr`` (the first parameter group: the heads), then ``lr_group1``, ... (a fine-tuned upstream's)."""
    groups = optimizer.param_groups
    return {"lr" if i == 0 else f"lr_group{i}": float(g["lr"]) for i, g in enumerate(groups)}


def train_loop(
    model: DownstreamModel,
    train_model: nn.Module,
    optimizer: torch.optim.Optimizer,
    make_loader: Callable[[int, int], DataLoader],
    cfg: DownstreamRunnerConfig,
    state: TrainingState,
    checkpoints: Path | MemoryCheckpoints,
    evaluate_dev: Callable[[], dict],
    logdir: Path | None = None,
    desc: str = "train",
    progress: bool = True,
) -> TrainingState:
    """Train ``train_model`` (``model`` or its DDP wrapper) until ``cfg.total_steps``, or until
    ``cfg.patience`` dev evaluations in a row bring no better main metric.

    ``make_loader(epoch, position)`` gives that epoch's batches from ``position`` on (see
    :func:`epoch_loader`). In an experiment folder (``checkpoints``), ``states-STEP.ckpt`` (the latest
    state only) is written at every dev evaluation, every ``cfg.save_minutes`` of wall time, and on SIGINT/SIGTERM (then
    TrainingInterrupted is raised), ``dev-best.ckpt`` at every better one; a MemoryCheckpoints keeps
    the best weights only. Dev evaluation runs on rank 0 only and its decision is broadcast, so
    every rank agrees on the best step. Every ``cfg.log_step`` steps the mean loss since the last report,
    the learning rate, the gradient norm and the task's metrics over those steps are reported, and every
    dev evaluation's metrics (aalbert.training_log: on the bar, or with ``progress`` False one plain line
    each; TensorBoard events in ``logdir`` when given).
    """
    params = [p for p in train_model.parameters() if p.requires_grad]
    log = TrainingLog(desc, cfg.total_steps, state.step, progress, logdir)
    counts: dict = {}  # the task's counts added up since the last report (aalbert.downstream.expert.add_counts)
    train_model.train()
    non_finite = NonFiniteSteps(lambda: latest_state(checkpoints) if isinstance(checkpoints, Path) else None)
    last_save = time.monotonic()
    try:
        with stop_on_signals():
            while state.step < cfg.total_steps and not patience_spent(cfg, state):
                for batch in make_loader(state.epoch, state.position):
                    out = train_model(batch)
                    optimizer.zero_grad(set_to_none=True)
                    out.loss.backward()
                    grad_norm = clip_gradients(params, cfg.gradient_clipping)
                    loss = float(out.loss.detach())
                    if non_finite.apply(state.step + 1, loss, grad_norm):
                        optimizer.step()
                    state.step += 1
                    state.position += 1
                    log.step_done(loss)
                    add_counts(counts, out.counts)
                    if state.step % cfg.log_step == 0 or state.step == cfg.total_steps:
                        metrics = model.expert.metrics(counts)
                        log.report(state.step, {**learning_rates(optimizer), "grad_norm": grad_norm, **metrics})
                        counts = {}
                    if state.step % cfg.eval_step == 0 or state.step == cfg.total_steps:
                        _evaluate_and_save(model, optimizer, state, checkpoints, evaluate_dev, log)
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
        log.close()
        if isinstance(checkpoints, MemoryCheckpoints):
            raise
        _save_last(model, optimizer, state, checkpoints)
        raise TrainingInterrupted(state.step, checkpoint_path(checkpoints, state.step)) from None
    finally:
        log.close()  # an error's message must not land on the bar's line
    return state


def _checkpoint(model: DownstreamModel, optimizer, state: TrainingState) -> dict:
    # the RNG too: dropout in the heads continues exactly where it stopped
    return {
        "model": model.trainable_state(),
        "optimizer": optimizer.state_dict(),
        "state": state.as_dict(),
        "rng": rng.capture(),
    }


def _save_last(model: DownstreamModel, optimizer, state: TrainingState, checkpoints: Path | MemoryCheckpoints) -> None:
    if dist.is_main() and not isinstance(checkpoints, MemoryCheckpoints):
        _save_state(_checkpoint(model, optimizer, state), checkpoints, state.step)


def _save_state(ckpt: dict, expdir: Path, step: int) -> None:
    """``states-STEP.ckpt``, then the older ones (and a previous release's ``last.ckpt``) go: the
    latest state is all a resume needs (s3prl's ``runner.max_keep`` 1)."""
    path = checkpoint_path(expdir, step)
    torch_save_atomic(ckpt, path)
    prune(expdir, 1, newest=path)
    (expdir / PREVIOUS_LAST).unlink(missing_ok=True)


def _evaluate_and_save(
    model: DownstreamModel,
    optimizer,
    state: TrainingState,
    checkpoints: Path | MemoryCheckpoints,
    evaluate_dev,
    log: TrainingLog,
) -> None:
    main_metric, higher = model.expert.main_metric, model.expert.higher_is_better
    update = None
    if dist.is_main():
        metrics = evaluate_dev()
        log.evaluated(state.step, metrics)
        if main_metric not in metrics:
            raise TaskRequirementError(f"expert metrics {sorted(metrics)} lack its main metric {main_metric!r}")
        if is_better(metrics[main_metric], state.best_metric, higher):
            update = {"best_metric": metrics[main_metric], "best_step": state.step, "best_dev": metrics}
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
            torch_save_atomic(ckpt, checkpoints / BEST)
        _save_state(ckpt, checkpoints, state.step)
    dist.barrier()
