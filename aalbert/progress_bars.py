"""Whether this process draws progress bars: ``--no-progress`` (aalbert.command_flags) turns them off
for the whole process, and every tqdm bar of the toolkit asks :func:`progress_bars`. A setting of the
process, so it lives below every layer that draws a bar (docs/architecture.md)."""

from __future__ import annotations

_enabled = True


def set_progress_bars(enabled: bool) -> None:
    global _enabled
    _enabled = enabled


def progress_bars() -> bool:
    """False after ``--no-progress``."""
    return _enabled
