"""What the analysis commands (run_attention.py, run_probe.py) share: the output folder flags
(``-n NAME`` writes to ``BASE/NAME``, ``-p/--expdir/--out DIR`` to DIR, neither to BASE) and the
frame of ``main``: runtime flags, logging, errors reported as every command reports them."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from pathlib import Path

from aalbert.command_flags import apply_runtime_flags
from aalbert.errors import report_error
from aalbert.experiment import experiment_dir


def output_dir(args: argparse.Namespace, base: str) -> Path:
    """-p/--expdir as given, else BASE/NAME for -n (kept inside BASE), else BASE."""
    if args.expdir is None and args.expname is None:
        return Path(base)
    return experiment_dir(base, args.expname, args.expdir)


def run_command(
    parser: argparse.ArgumentParser, argv: list[str] | None, run: Callable[[argparse.Namespace], str]
) -> int:
    """Parse ``argv``, apply the runtime flags, ``run(args)`` and print the line it returns (what it wrote)."""
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        apply_runtime_flags(args)
        done = run(args)
    except Exception as err:  # noqa: BLE001 - user errors are one line (exit 1), anything else a traceback
        return report_error(err, parser.prog, args.debug)
    print(done)
    return 0
