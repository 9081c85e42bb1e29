"""The flags every long-running command shares, spelled once: ``--device``, ``--threads``,
``--no-progress``, ``--debug``; and the examples each command's ``--help`` ends with.

Torch-free, as every command's parser is: ``--help`` and usage errors answer before torch is
imported (tests/test_aalbert_command.py checks it)."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


def command_parser(prog: str, description: str, examples: list[str]) -> argparse.ArgumentParser:
    """An ArgumentParser whose ``--help`` ends with worked examples (kept verbatim)."""
    return argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_runtime_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="where the model runs (auto: cuda when available, else cpu)",
    )
    p.add_argument("--threads", type=int, help="torch CPU threads of this process (default: torch's choice)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (e.g. for log files)")
    add_debug_flag(p)


def add_debug_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--debug", action="store_true", help="show the traceback of every error (user errors are otherwise one line)"
    )


def add_upstream_flags(p: argparse.ArgumentParser, default: str | None = "aalbert") -> None:
    """``-u`` / ``-k`` as s3prl spells them: the hub name and its checkpoint (``*_local``)."""
    p.add_argument("-u", "--upstream", default=default, help="upstream name (`aalbert hub list` shows them)")
    p.add_argument(
        "-k",
        "--upstream-ckpt",
        "--upstream_ckpt",
        "--ckpt",
        dest="upstream_ckpt",
        metavar="UPSTREAM_CKPT",
        help="upstream checkpoint",
    )


def add_experiment_flags(p: argparse.ArgumentParser, base: str, resume: str | None = None) -> None:
    """``-n NAME`` (a folder under ``base``) or ``-p EXPDIR``, and ``--overwrite``; with ``resume``, ``-e``."""
    p.add_argument("-n", "--name", "--expname", dest="expname", metavar="NAME", help=f"experiment folder {base}/NAME")
    p.add_argument("-p", "--expdir", "--out", dest="expdir", metavar="EXPDIR", help="experiment folder (instead of -n)")
    if resume is not None:
        p.add_argument("-e", "--past-exp", "--past_exp", dest="past_exp", metavar="PAST_EXP", help=resume)
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="start anew in a folder that holds another run (its contents are moved aside to FOLDER.old-TIME, "
        "never deleted)",
    )


def add_override_flag(p: argparse.ArgumentParser, example: str) -> None:
    p.add_argument(
        "-o",
        "--override",
        action="append",
        default=[],
        help=f"config overrides KEY=VALUE, dotted; several per -o with ',' or s3prl's ',,' (e.g. -o {example})",
    )


def from_flags(cls: type[T], args: argparse.Namespace, spelled: Mapping[str, str] | None = None, **more: Any) -> T:
    """The dataclass ``cls`` from the flags named as its fields (``--max-steps`` -> ``max_steps``);
    ``more`` gives the fields whose flags need converting or are spelled otherwise, ``spelled``
    those flags (``{"roots": "--data"}``). A value the dataclass's checks refuse is an error naming
    its flag, as given: ``--epochs 0: epochs must be >= 1, got 0``."""
    from aalbert.config import ConfigError, blamed_fields
    from aalbert.errors import AalbertError

    fields = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]  # cls is a dataclass
    values = {**{k: v for k, v in vars(args).items() if k in fields}, **more}
    try:
        return cls(**values)
    except (TypeError, ValueError, AalbertError) as err:
        named = blamed_fields(cls, values, err)
        if not named:
            raise
        flags = [(spelled or {}).get(name, f"--{name.replace('_', '-')}") for name in named]
        given = [
            f"{flag} {shlex.quote(str(getattr(args, flag.lstrip('-').replace('-', '_'), values[name])))}"
            for flag, name in zip(flags, named)
        ]
        raise ConfigError(f"{', '.join(given)}: {err}") from err


def apply_runtime_flags(args: argparse.Namespace) -> None:
    """Settings that hold for the whole process: CPU threads. (``--no-progress`` is passed down
    by each command as ``progress=not args.no_progress``: no process-wide switch.)"""
    if args.threads is not None:
        if args.threads < 1:
            from aalbert.errors import UsageError

            raise UsageError(f"--threads must be at least 1, got {args.threads}")
        import torch  # late: parsing a command line never imports torch

        torch.set_num_threads(args.threads)
