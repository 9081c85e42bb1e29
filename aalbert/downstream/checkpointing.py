"""Downstream checkpoints: atomic writes, plain tensors and numbers only (read back weights-only
with aalbert.checkpoint_file.load_checkpoint_file, like every checkpoint)."""

from __future__ import annotations

from pathlib import Path

from aalbert.atomic import torch_save_atomic

BEST = "best.ckpt"  # best dev metric: what evaluation uses
LAST = "last.ckpt"  # latest state: what resuming uses


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write to a temp file in the same folder, then rename: a crash never leaves half a checkpoint."""
    torch_save_atomic(state, path)
