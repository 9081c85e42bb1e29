"""A pretraining experiment folder: made ready for a run; which checkpoint a resume reads (the names
and pruning of ``states-STEP.ckpt``, s3prl's, are aalbert.step_checkpoints', shared with the downstream)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files
from aalbert.config import save_config
from aalbert.corpus.utterance import CorpusListing
from aalbert.experiment import write_record
from aalbert.step_checkpoints import checkpoint_path, list_checkpoints, prune, step_of

__all__ = ["checkpoint_path", "list_checkpoints", "prepare_folder", "prune", "resolve_resume", "step_of"]


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
