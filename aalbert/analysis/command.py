"""What the analysis commands (run_attention.py, run_probe.py) share: the output folder flags
(``-n NAME`` writes to ``BASE/NAME``, ``-p/--expdir/--out DIR`` to DIR, neither to ``BASE/`` a
name that says what ran, e.g. ``aalbert_local-tiny-states-500-phone``), the folder owned as an
experiment folder (aalbert.experiment.open_experiment) and the frame of ``main``: runtime flags,
logging, errors reported as every command reports them. Torch-free: the commands' parsers import it."""

from __future__ import annotations

import argparse
import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from aalbert.command_flags import apply_runtime_flags
from aalbert.errors import report_error
from aalbert.safe_names import file_name

if TYPE_CHECKING:
    from aalbert.experiment import OpenedExperiment

log = logging.getLogger(__name__)


def output_dir(args: argparse.Namespace, base: str, *default_name: str | None) -> Path:
    """-p/--expdir as given, else BASE/NAME for -n (kept inside BASE), else BASE/<the parts of
    ``default_name`` joined by '-'>: two runs of different upstreams or tasks never share a folder."""
    from aalbert.experiment import experiment_dir  # late: torch (atomic writes); parsers here are torch-free

    if args.expdir is None and args.expname is None:
        words = "-".join(part for part in default_name if part)
        return Path(base) / file_name(words) if words else Path(base)
    return experiment_dir(base, args.expname, args.expdir)


def checkpoint_words(ckpt: str | None) -> str | None:
    """A checkpoint path in a folder name: its folder and file stem (``tiny-states-500``)."""
    if not ckpt:
        return None
    path = Path(ckpt)
    return f"{path.parent.name}-{path.stem}" if path.parent.name else path.stem


def owned_folder(folder: Path, kind: str, settings: dict, upstream: dict, overwrite: bool) -> OpenedExperiment:
    """Take ``folder`` for this run as downstream and pretraining take theirs: locked, recorded, and
    refused (naming what differs) when it holds another run, unless ``--overwrite`` moves that aside."""
    from aalbert.experiment import make_record, open_experiment

    opened = open_experiment(folder, make_record(kind, settings, upstream=upstream), overwrite=overwrite)
    if opened.moved_to is not None:
        log.warning("--overwrite: moved the old contents of %s to %s", folder, opened.moved_to)
    return opened


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None, work: str) -> int:
    """Parse ``argv``, apply the runtime flags, run ``work`` (``module:function`` of the args, imported
    only now: the parser is torch-free) and print the line it returns (what it wrote)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        apply_runtime_flags(args)
        module, function = work.split(":")
        done = getattr(importlib.import_module(module), function)(args)
    except Exception as err:  # noqa: BLE001 - user errors are one line (exit 1), anything else a traceback
        return report_error(err, parser.prog, args.debug)
    print(done)
    return 0
