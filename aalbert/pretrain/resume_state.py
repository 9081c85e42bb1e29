"""What a pretraining checkpoint holds beyond the weights, and putting a Trainer back to it.

A checkpoint is s3prl's format (weights, configs) plus what an exact resume needs: optimizer,
scheduler, the data position ``(epoch, micro-batches consumed)`` and every rank's RNG states.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Protocol

import torch

from aalbert import rng
from aalbert.checkpoint_file import CheckpointError, load_checkpoint_file
from aalbert.config import ConfigError, to_dict
from aalbert.distributed import DistInfo, all_gather_objects
from aalbert.pretrain import checkpoints
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.schedule import WarmupLinear
from aalbert.upstream.checkpoint import import_encoder_state, import_head_state, save_s3prl_checkpoint
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.model_config import TransformerConfig


class TrainerState(Protocol):
    """What a checkpoint is written from and restored to: the pretraining Trainer's attributes
    (trainer.py imports this module, so they are described here rather than imported back)."""

    cfg: PretrainConfig
    args: dict
    expdir: Path
    dist: DistInfo
    model: MaskedAcousticModel
    feature_config: FeatureConfig
    encoder_config: TransformerConfig
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    mask_generator: torch.Generator
    skipped: list[str]
    step: int
    epoch: int
    position: int  # micro-batches of the current epoch already consumed
    last_checkpoint: Path | None


def training_state(trainer: TrainerState) -> dict:
    """Everything beyond the weights that an exact resume needs (a collective: every rank calls it)."""
    rng_states = all_gather_objects(rng.capture(trainer.mask_generator))
    return {
        "Optimizer": trainer.optimizer.state_dict(),
        "Scheduler": trainer.scheduler.state_dict(),
        "Epoch": trainer.epoch,
        "Position": trainer.position,
        "World_Size": trainer.dist.world_size,
        "RNG": rng_states,
        "Skipped_Files": len(trainer.skipped),
        "Skipped_File_List": list(trainer.skipped),  # "path: problem" of each (data.bad_audio: skip and later failures)
    }


def write_checkpoint(trainer: TrainerState) -> Path | None:
    """Checkpoint at the current step (all ranks call it; rank 0 writes)."""
    extra = training_state(trainer)  # a collective: every rank takes part
    if not trainer.dist.is_main:
        return None
    path = checkpoints.checkpoint_path(trainer.expdir, trainer.step)
    task = {
        "mask_proportion": trainer.cfg.task.mask_proportion,
        "mask_consecutive_min": trainer.cfg.task.mask_consecutive,
        "mask_consecutive_max": trainer.cfg.task.mask_consecutive,
        "mask_allow_overlap": False,
        "sequence_length": trainer.cfg.data.max_frames,
        "loss": "L1",
    }
    save_s3prl_checkpoint(
        path,
        trainer.model.encoder,
        trainer.model.head,
        trainer.feature_config,
        trainer.step,
        extra=extra,
        task=task,
        runner_config=to_dict(trainer.cfg),
        args=argparse.Namespace(**trainer.args),
    )
    checkpoints.prune(trainer.expdir, trainer.cfg.log.keep_last, newest=path)
    trainer.last_checkpoint = path
    return path


def restore_checkpoint(trainer: TrainerState, path: Path) -> None:
    """Put ``trainer`` back to the checkpoint ``path``: weights, optimizer, data position, RNG streams."""
    ckpt = load_checkpoint_file(path)
    for key in ("Transformer", "SpecHead", "Optimizer", "Scheduler", "Epoch", "Position", "RNG"):
        if key not in ckpt:
            raise ValueError(f"checkpoint {path}: no {key!r} entry; it is not a resumable pretraining checkpoint")
    try:
        trainer.model.encoder.load_state_dict(import_encoder_state(ckpt["Transformer"], trainer.encoder_config, path))
        trainer.model.head.load_state_dict(import_head_state(ckpt["SpecHead"], path))
        trainer.optimizer.load_state_dict(ckpt["Optimizer"])
        trainer.scheduler.load_state_dict(ckpt["Scheduler"])
    except (RuntimeError, ValueError, KeyError) as err:
        if isinstance(err, CheckpointError):
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            path,
            f"does not fit this run's model or optimizer ({first}); resume it with its own "
            "config (-e without -c) or start a new experiment",
        ) from err
    trainer.step, trainer.epoch, trainer.position = int(ckpt["Step"]), int(ckpt["Epoch"]), int(ckpt["Position"])
    replan_schedule(trainer.scheduler, trainer.cfg.optim.total_steps, path)
    states = ckpt["RNG"]
    if len(states) == trainer.dist.world_size:
        rng.restore(states[trainer.dist.rank], trainer.mask_generator)
    else:
        warnings.warn(
            f"checkpoint {path} was written by {len(states)} process(es), this run has "
            f"{trainer.dist.world_size}: data position restored, RNG streams reseeded (not bit-exact)",
            stacklevel=2,
        )
        data_world = int(ckpt.get("World_Size", len(states)))
        if data_world != trainer.dist.world_size:
            # positions count this rank's share of an epoch; a new world size reshards: restart the epoch
            trainer.position = 0
    trainer.last_checkpoint = path


def replan_schedule(scheduler: torch.optim.lr_scheduler.LambdaLR, total_steps: int, path: Path) -> None:
    """Continue a run to ``total_steps``: the learning rate of a run planned for that total from the start.

    The warm-up keeps the steps it was planned with; the linear decay then reaches zero at the new
    total instead of the old one (a finished run continued from its end starts again at the rate
    that schedule gives there, not at zero). With the total unchanged this changes nothing, so an
    interrupted run resumes exactly (and a finished one trains nothing more). A total below the
    planned one would change the plan of the steps already taken: an error.
    """
    plan = scheduler.lr_lambdas[0]
    if not isinstance(plan, WarmupLinear):
        return
    if total_steps < plan.total_steps:
        raise ConfigError(
            f"{path} belongs to a run planned for {plan.total_steps} steps; optim.total_steps {total_steps} "
            "would shorten it (its learning-rate schedule is fixed by the plan): continue with at least "
            f"{plan.total_steps} steps, or start a new experiment"
        )
    if total_steps == plan.total_steps:
        return
    plan.total_steps = total_steps
    factor = plan(scheduler.last_epoch)
    for group, base in zip(scheduler.optimizer.param_groups, scheduler.base_lrs):
        group["lr"] = base * factor
    scheduler._last_lr = [group["lr"] for group in scheduler.optimizer.param_groups]  # what get_last_lr() reports
