"""A tiny upstream obeying the Upstream contract, for tests: aalbert.testing's, named "fake".

Imported by conftest.py and by scripts run in subprocesses (DDP, plugin tests).
"""

from __future__ import annotations

from pathlib import Path

from aalbert.testing.upstream import TinyUpstream


class FakeUpstream(TinyUpstream):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.name = "fake"


def write_file(path: Path, text: str) -> Path:
    """``text`` into ``path``, its folders made: a task config, a base, a -c file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path
