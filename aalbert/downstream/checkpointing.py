"""Downstream checkpoints: atomic writes, plain tensors and numbers only (weights-only loadable)."""

from __future__ import annotations

from pathlib import Path


from aalbert.atomic import torch_save_atomic
from aalbert.checkpoint_file import CheckpointError, load_checkpoint_file

BEST = "best.ckpt"   # best dev metric: what evaluation uses
LAST = "last.ckpt"   # latest state: what resuming uses


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write to a temp file in the same folder, then rename: a crash never leaves half a checkpoint."""
    torch_save_atomic(state, path)


def load_checkpoint(path: str | Path) -> dict:
    """A downstream checkpoint, read like every checkpoint (aalbert.checkpoint_file): errors name the file."""
    ckpt = load_checkpoint_file(path)
    if not isinstance(ckpt, dict):
        raise CheckpointError(path, f"expected a dict, got {type(ckpt).__name__}")
    return ckpt
