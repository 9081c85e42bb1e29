"""Atomic file writes: a temporary file in the same folder, then ``os.replace``.

A crash or a kill mid-write leaves either the old file or the new one, never half of one. A
``kill -9`` can still leave the temporary file itself; its name carries the writer's process
id (``.NAME.PID.XXXX.tmp``), so :func:`remove_stale_temp_files` can tell the leftovers of dead
writers from files being written right now. Files get the permissions the user's umask gives
(readable by a lab's group where the umask allows it), not mkstemp's private 0600.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

_TEMP = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_atomic(
    path: str | Path, write: Callable[[IO[bytes]], object], verify: Callable[[Path], object] | None = None
) -> Path:
    """Create ``path``'s folder if needed and write it through ``write(binary_file)`` atomically.

    ``verify(temporary_path)``, called once the file is written and closed, may refuse it by
    raising: ``path`` is then left as it was and the temporary file removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        if verify is not None:
            verify(Path(tmp))
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def torch_save_atomic(obj, path: str | Path) -> Path:
    return write_atomic(path, lambda f: torch.save(obj, f))


def write_text_atomic(path: str | Path, text: str) -> Path:
    return write_atomic(path, lambda f: f.write(text.encode("utf-8")))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def remove_stale_temp_files(folder: str | Path, recursive: bool = False) -> list[Path]:
    """Delete the temporary files that writers which no longer run left in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.rglob(".*.tmp") if recursive else folder.glob(".*.tmp"):
        match = _TEMP.match(path.name)
        if match and path.is_file() and not _alive(int(match.group(1))):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
