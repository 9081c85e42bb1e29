"""s3prl's checkpoint names, ``states-STEP.ckpt``: finding the latest and pruning old ones. Both
training loops name their resumable checkpoints so (pretraining keeps ``runner.max_keep``, the
downstream the latest one)."""

from __future__ import annotations

import re
from pathlib import Path

PATTERN = re.compile(r"^states-(\d+)\.ckpt$")


def checkpoint_path(expdir: str | Path, step: int) -> Path:
    """s3prl's name for the checkpoint of ``step``."""
    return Path(expdir) / f"states-{step}.ckpt"


def list_checkpoints(expdir: str | Path) -> list[Path]:
    """Checkpoints in ``expdir``, oldest step first."""
    expdir = Path(expdir)
    if not expdir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in expdir.iterdir() if (m := PATTERN.match(p.name))]
    return [p for _, p in sorted(found)]


def step_of(path: Path) -> int:
    match = PATTERN.match(Path(path).name)
    if match is None:
        raise ValueError(f"{path} is not named states-STEP.ckpt")
    return int(match.group(1))


def prune(expdir: str | Path, max_keep: int, newest: Path) -> list[Path]:
    """Keep the ``max_keep`` newest checkpoints up to ``newest`` (the one just written); delete the
    older ones. A checkpoint of a later step is never touched: this run did not write it."""
    found = [p for p in list_checkpoints(expdir) if step_of(p) <= step_of(newest)]
    doomed = found[:-max_keep] if max_keep > 0 else []
    for p in doomed:
        p.unlink(missing_ok=True)
    return doomed
