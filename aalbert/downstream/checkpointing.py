"""Downstream checkpoints: atomic writes, plain tensors and numbers only (weights-only loadable)."""

from __future__ import annotations

from pathlib import Path

import torch

from aalbert.atomic import torch_save_atomic

BEST = "best.ckpt"   # best dev metric: what evaluation uses
LAST = "last.ckpt"   # latest state: what resuming uses


def save_checkpoint(state: dict, path: str | Path) -> None:
    """Write to a temp file in the same folder, then rename: a crash never leaves half a checkpoint."""
    torch_save_atomic(state, path)


def load_checkpoint(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    return torch.load(path, map_location="cpu", weights_only=True)
