"""What a pretraining checkpoint holds beyond the weights, and reading it back for a resume.

A checkpoint is s3prl's format (weights, configs) plus what an exact resume needs: optimizer,
scheduler, the data position ``(epoch, micro-batches consumed)`` and every rank's RNG states.
Plain functions of what they write or restore (the Trainer calls them; nothing here imports it).
"""

from __future__ import annotations

import argparse
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch

from aalbert.checkpoint_file import CheckpointError, load_checkpoint_file
from aalbert.config import ConfigError, to_dict
from aalbert.distributed import rank, world_size
from aalbert.pretrain.config import PretrainConfig
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.schedule import WarmupLinear
from aalbert.training_loop import TrainingState
from aalbert.upstream.checkpoint import import_encoder_state, import_head_state, save_s3prl_checkpoint
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.model_config import TransformerConfig


def write_checkpoint(
    path: Path,
    cfg: PretrainConfig,
    model: MaskedAcousticModel,
    feature_config: FeatureConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    state: TrainingState,
    rng_states: list[dict],
    skipped: list[str],
    args: dict,
) -> None:
    """Write the checkpoint of ``state`` to ``path`` (rank 0): s3prl's entries (weights, configs, step)
    plus the optimizer, scheduler, data position and ``rng_states`` (one per rank, in rank order)."""
    extra = {
        "Optimizer": optimizer.state_dict(),
        "Scheduler": scheduler.state_dict(),
        "Epoch": state.epoch,
        "Position": state.position,
        "World_Size": world_size(),
        "RNG": rng_states,
        "Skipped_Files": len(skipped),
        "Skipped_File_List": list(skipped),  # "path: problem" of each (data.bad_audio: skip and later failures)
    }
    task = {
        "mask_proportion": cfg.task.mask_proportion,
        "mask_consecutive_min": cfg.task.mask_consecutive,
        "mask_consecutive_max": cfg.task.mask_consecutive,
        "mask_allow_overlap": False,
        "sequence_length": cfg.data.max_frames,
        "loss": "L1",
    }
    save_s3prl_checkpoint(
        path,
        model.encoder,
        model.head,
        feature_config,
        state.step,
        extra=extra,
        task=task,
        runner_config=to_dict(cfg),
        args=argparse.Namespace(**args),
    )


@dataclass
class Restored:
    """What a checkpoint puts back besides the weights and optimizer (restored in place)."""

    state: TrainingState
    rng: dict | None  # this rank's RNG states; None when the checkpoint was written by another world size
    skipped: list[str]


def restore_checkpoint(
    path: Path,
    model: MaskedAcousticModel,
    encoder_config: TransformerConfig,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LambdaLR,
    total_steps: int,
) -> Restored:
    """Put the weights, optimizer and schedule back to the checkpoint ``path`` (the schedule planned
    for ``total_steps``: :func:`replan_schedule`); the data position and this rank's RNG states."""
    ckpt = load_checkpoint_file(path)
    for key in ("Transformer", "SpecHead", "Optimizer", "Scheduler", "Epoch", "Position", "RNG"):
        if key not in ckpt:
            raise CheckpointError(path, f"no {key!r} entry; it is not a resumable pretraining checkpoint")
    try:
        model.encoder.load_state_dict(import_encoder_state(ckpt["Transformer"], encoder_config, path))
        model.head.load_state_dict(import_head_state(ckpt["SpecHead"], path))
        optimizer.load_state_dict(ckpt["Optimizer"])
        scheduler.load_state_dict(ckpt["Scheduler"])
    except (RuntimeError, ValueError, KeyError) as err:  # torch's: a checkpoint of another model
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            path,
            f"does not fit this run's model or optimizer ({first}); resume it with its own "
            "config (-e without -c) or start a new experiment",
        ) from err
    state = TrainingState(step=int(ckpt["Step"]), epoch=int(ckpt["Epoch"]), position=int(ckpt["Position"]))
    replan_schedule(scheduler, total_steps, path)
    states, world = ckpt["RNG"], world_size()
    own = None
    if len(states) == world:
        own = states[rank()]
    else:
        warnings.warn(
            f"checkpoint {path} holds the RNG states of {len(states)} process(es), this run has "
            f"{world}: data position restored, RNG streams reseeded (not bit-exact)",
            stacklevel=2,
        )
        if int(ckpt.get("World_Size", len(states))) != world:
            # positions count this rank's share of an epoch; a new world size reshards: restart the epoch
            state.position = 0
    return Restored(state, own, [str(s) for s in ckpt.get("Skipped_File_List", [])])


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
            f"{path} belongs to a run planned for {plan.total_steps} steps; runner.total_steps {total_steps} "
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
