"""One writer per experiment folder: an advisory lock the operating system releases with its holder.

The lock is ``flock`` on ``FOLDER/.aalbert.lock``: the kernel drops it when the holding process
ends, however it ends (``kill -9`` included), so a lock is never stale. While held, the file names
its holder (pid, host, command, start time); a second process that finds the lock taken reads it
and is refused with that name at once, instead of training beside the first. The file stays (it
is emptied on release: deleting a lock file races with the next process opening it).
Under torchrun only rank 0 takes the lock: the other ranks write nothing of their own.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from aalbert.errors import AalbertError

LOCK_NAME = ".aalbert.lock"


class FolderBusyError(AalbertError):
    """Another live process holds the folder's lock."""


class FolderLock:
    """Held from :meth:`acquire` until :meth:`release` (or the end of the process)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.path = self.folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> FolderLock:
        """Take the lock (creating the folder), or raise FolderBusyError naming the holder."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise FolderBusyError(
                f"{self.folder} is in use by another aalbert run ({describe_holder(self.path)}); wait for it to "
                "finish, or choose another experiment name"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(sys.argv),
            "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)  # a released folder names no holder (and a refused run leaves it as it was)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> FolderLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def describe_holder(path: Path) -> str:
    """``pid N on HOST since TIME: COMMAND`` from a lock file (its holder may still be writing it)."""
    for _ in range(20):
        try:
            holder = json.loads(path.read_text(encoding="utf-8") or "null")
        except (OSError, ValueError):
            holder = None
        if isinstance(holder, dict):
            return (
                f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('started', '?')}: "
                f"{holder.get('command', '?')}"
            )
        time.sleep(0.05)  # the holder took the lock a moment ago and is writing its name
    return "a process that has not written its name yet"
