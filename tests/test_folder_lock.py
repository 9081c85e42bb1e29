"""aalbert.folder_lock: one holder at a time, named to whoever is refused, released by the kernel on kill -9."""

from __future__ import annotations

import os
import signal
import socket

import pytest
from held_process import freeze_when, start

from aalbert.folder_lock import LOCK_NAME, FolderBusyError, FolderLock


def test_a_second_holder_is_refused_naming_the_first(tmp_path):
    with FolderLock(tmp_path / "exp"):
        with pytest.raises(FolderBusyError) as refused:
            FolderLock(tmp_path / "exp").acquire()
    message = str(refused.value)
    assert f"pid {os.getpid()} on {socket.gethostname()}" in message and "in use by another aalbert run" in message
    FolderLock(tmp_path / "exp").acquire().release()  # free again once released
    assert (tmp_path / "exp" / LOCK_NAME).read_text() == ""  # a released lock names nobody


def test_a_killed_holder_leaves_no_stale_lock(tmp_path):
    folder = tmp_path / "exp"
    code = f"from aalbert.folder_lock import FolderLock; FolderLock({str(folder)!r}).acquire(); import time; time.sleep(600)"
    holder = start(["-c", code])
    freeze_when(holder, lambda: bool((folder / LOCK_NAME).is_file() and (folder / LOCK_NAME).read_text()))
    with pytest.raises(FolderBusyError, match=f"pid {holder.pid} "):
        FolderLock(folder).acquire()
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    FolderLock(folder).acquire().release()  # the kernel released it with the process
