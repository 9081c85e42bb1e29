"""A pretraining experiment folder: made ready for a run; its checkpoints named, found, pruned."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files
from aalbert.config import save_config
from aalbert.corpus.utterance import CorpusListing
from aalbert.experiment import write_record

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


def resolve_resume(path: str | Path) -> Path:
    """``-e``: a checkpoint file, or an experiment folder (its latest checkpoint)."""
    path = Path(path)
    if path.is_file():
        return path
    if path.is_dir():
        found = list_checkpoints(path)
        if not found:
            raise FileNotFoundError(f"no states-*.ckpt checkpoint in experiment folder {path}")
        return found[-1]
    raise FileNotFoundError(f"resume target not found: {path} (give a checkpoint file or an experiment folder)")


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


def prepare_folder(expdir: Path, record: dict | None, cfg: Any, corpus: CorpusListing) -> None:
    """Before the first step (rank 0): the folder exists, an interrupted write's temp files are gone,
    the record and ``config.yaml`` say what this run is; the unusable audio files are counted."""
    expdir.mkdir(parents=True, exist_ok=True)
    for stale in remove_stale_temp_files(expdir):
        tqdm.write(f"[pretrain] removed {stale.name}, left by an interrupted checkpoint write")
    if record is not None:
        write_record(expdir, record)
    save_config(cfg, expdir / "config.yaml")
    if corpus.unusable:
        total = len(corpus.unusable) + len(corpus.utterances)
        tqdm.write(f"[pretrain] skipped {len(corpus.unusable)} unusable audio file(s) out of {total}")
