"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A crash or a kill mid-write leaves either the old file or the new one, never half of one, and
no temporary file behind (checkpoints, cached features, results).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable

import torch


def write_atomic(path: str | Path, write: Callable[[IO[bytes]], None]) -> Path:
    """Create ``path``'s folder if needed and write it through ``write(binary_file)`` atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def torch_save_atomic(obj, path: str | Path) -> Path:
    return write_atomic(path, lambda f: torch.save(obj, f))


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))
