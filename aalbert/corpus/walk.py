"""Finding files fast: one ``os.scandir`` walk that also hands back each file's ``stat``."""

from __future__ import annotations

import os
from pathlib import Path


def walk_files(root: str | Path, suffixes: tuple[str, ...]) -> list[tuple[Path, os.stat_result]]:
    """Files under ``root`` whose lower-cased suffix is in ``suffixes``, sorted by path, with their stat."""
    found: list[tuple[str, os.stat_result]] = []
    stack = [str(root)]
    while stack:
        folder = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=True):
                    stack.append(entry.path)
                elif os.path.splitext(entry.name)[1].lower() in suffixes:
                    found.append((entry.path, entry.stat(follow_symlinks=True)))
    found.sort(key=lambda item: item[0])
    return [(Path(p), st) for p, st in found]
