"""Real second processes for the one-writer tests: a command started, frozen (SIGSTOP) at a chosen
moment, and let go (SIGCONT) or killed, as a user's second terminal or ``kill -9`` would meet it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from aalbert.folder_lock import LOCK_NAME

TIMEOUT_S = 300  # a frozen holder never times out a refused command: it would hang, not fail late


def _ctrl_c_stops_it() -> None:
    """In the child before exec: SIGINT back to its default. A suite started in the background of a
    non-interactive shell (``make test &``, some CI runners) inherits SIGINT ignored, and Python then
    keeps ignoring it, so a test's Ctrl-C would be lost and the command would finish with exit 0."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(argv: list[str], cwd: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(
        [sys.executable, *argv],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_stops_it,
    )


def run(argv: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    proc = start(argv, cwd)
    out, err = proc.communicate(timeout=TIMEOUT_S)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def freeze_when(proc: subprocess.Popen, ready: Callable[[], bool]) -> None:
    """SIGSTOP ``proc`` as soon as ``ready()`` (polled every 10 ms); it must still be running then."""
    deadline = time.monotonic() + TIMEOUT_S
    while not ready():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"exited {proc.returncode} before the moment the test waits for:\n{out}\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the moment the test waits for never came")
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGSTOP)


def holds_lock(folder: Path, proc: subprocess.Popen) -> Callable[[], bool]:
    """True once ``proc`` has taken ``folder``'s lock (its lock file names it)."""

    def check() -> bool:
        try:
            return json.loads((folder / LOCK_NAME).read_text() or "{}").get("pid") == proc.pid
        except (OSError, ValueError):
            return False

    return check


@contextmanager
def frozen_holder(argv: list[str], folder: Path, cwd: Path | None = None) -> Iterator[subprocess.Popen]:
    """Run ``argv`` until it holds ``folder``, keep it frozen there inside the block, then let it finish
    (wait for it with ``proc.communicate()``)."""
    proc = start(argv, cwd)
    freeze_when(proc, holds_lock(folder, proc))
    try:
        yield proc
    finally:
        os.kill(proc.pid, signal.SIGCONT)


def dead_pid() -> int:
    """The pid of a process that has ended (what a writer killed mid-write left in its temp file name)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
