"""Experiment folders that are owned: what made them is recorded, and nothing is silently reused.

A run writes ``experiment.json`` into its folder: the kind of run, the resolved config, the
upstream it used (name and checkpoint hash), the command and the toolkit version. Starting a
run in a folder that already holds something is then decided, never guessed:

* the same run (same record): it continues from where it stopped (rerunning the command after
  an interruption resumes it);
* resuming (``-e``) with changes only to keys that may change on resume (more steps, logging):
  it continues;
* anything else (another config, another upstream, files not made by us): an error that says
  what differs and offers ``-e`` (resume that run) or ``--overwrite`` (start over after moving
  the old contents aside to ``<folder>.old-<time>``; nothing is deleted).

:func:`open_experiment` is how a command takes a folder: it locks it first (one writer at a time,
aalbert.folder_lock), decides as above, and writes the record before anything else, so a start
interrupted at any point is recognised by the same command as its own.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from aalbert import previous_release
from aalbert.atomic import remove_stale_temp_files, write_text_atomic
from aalbert.config import ConfigError, from_dict, merge_dicts, to_dict
from aalbert.folder_lock import LOCK_NAME, FolderLock

RECORD = "experiment.json"


class ExperimentError(ConfigError):
    """An experiment folder that cannot be used as asked; the message says what to do."""


def version() -> str:
    try:
        from importlib.metadata import version as package_version

        return package_version("aalbert")
    except Exception:  # noqa: BLE001 - not installed (a bare checkout): say so
        return "unknown"


def experiment_dir(base: str | Path, name: str | None, expdir: str | Path | None) -> Path:
    """``--expdir`` as given (the explicit way to write anywhere), else ``base/name``.

    A name may not leave ``base``: no absolute path, no ``..``.
    """
    if expdir is not None:
        return Path(expdir)
    if name is None:
        raise ConfigError("give an experiment name with -n (or a folder with --expdir)")
    parts = PurePath(name).parts
    if not name.strip() or PurePath(name).is_absolute() or ".." in parts or parts in ((), (".",)):
        raise ConfigError(
            f"experiment name {name!r} must be a folder name inside {base}/ (no absolute path, no "
            "'..'); to write elsewhere give the folder with --expdir"
        )
    return Path(base) / name


def make_record(kind: str, config: dict, **about: Any) -> dict:
    return {
        "kind": kind,
        "config": config,
        **about,
        "command": list(sys.argv),
        "aalbert_version": version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }


def write_record(expdir: Path, record: dict) -> None:
    write_text_atomic(Path(expdir) / RECORD, json.dumps(record, indent=1, default=str))


def read_record(expdir: Path) -> dict | None:
    path = Path(expdir) / RECORD
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ExperimentError(f"{path} cannot be read ({err}); move the folder aside or pass --overwrite") from err
    return record if isinstance(record, dict) else None


def _comparable(record: dict) -> dict:
    """What two records of one experiment must agree on: not when or by what command line they were
    written (nor by which of its names the command asked for the task: ``asked``), and not where an
    upstream checkpoint lay when its content (sha256) is the same (a moved or copied experiment)."""
    out = {k: v for k, v in record.items() if k not in ("command", "created", "aalbert_version", "asked")}
    upstream = out.get("upstream")
    if isinstance(upstream, dict) and "sha256" in upstream:
        out["upstream"] = {k: v for k, v in upstream.items() if k != "ckpt"}
    return out


def differences(old: Any, new: Any, prefix: str = "") -> list[str]:
    """Dotted keys whose values differ, as ``key: old -> new``."""
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for key in sorted(set(old) | set(new), key=str):
            out += differences(old.get(key, "<absent>"), new.get(key, "<absent>"), f"{prefix}{key}.")
        return out
    return [] if old == new else [f"{prefix.rstrip('.')}: {old!r} -> {new!r}"]


@dataclass
class Claim:
    action: str  # "new" (empty or absent folder), "continue" (the same run), "overwrite" (move aside first)
    changes: list[str]  # what -o changed on a resume (allowed keys only)


def claim(
    expdir: Path,
    record: dict,
    resuming: bool,
    overwrite: bool,
    may_change: tuple[str, ...] = (),
    config_class: type | None = None,
) -> Claim:
    """Decide how a run may use ``expdir`` (read-only: see move_aside / write_record).

    ``record`` is what this run would write; ``may_change``: dotted key prefixes that a resume
    may change (e.g. ``runner.total_steps``); ``config_class``: the dataclass of the record's
    config (an older record is read with today's names: aalbert.previous_release).
    """
    expdir = Path(expdir)
    contents = [p for p in expdir.iterdir() if p.name != LOCK_NAME] if expdir.is_dir() else []
    if not contents:
        return Claim("new", [])
    if overwrite:
        return Claim("overwrite", [])
    old = read_record(expdir)
    if old is None and resuming:
        return Claim("continue", [])  # a folder from before records existed: nothing to compare
    if old is None:
        raise ExperimentError(
            f"{expdir} already holds {len(contents)} file(s) not made by an aalbert run (no {RECORD}); "
            "choose another experiment name, or pass --overwrite to move them aside and start over"
        )
    if isinstance(old.get("config"), dict):
        upgraded = old["config"]
        if old.get("kind") in ("pretrain", "downstream"):
            upgraded = previous_release.upgrade(old["kind"], upgraded, where=str(expdir / RECORD))
        if config_class is not None:
            # keys added since the record was written count as their defaults, which is what that run used
            upgraded = merge_dicts(to_dict(config_class()), upgraded)
            # and settings derived from others are derived as today's record derives them (a pretraining
            # record from before audio.target.feat_type followed task.target kept the recipe's kind)
            try:
                upgraded = to_dict(from_dict(config_class, upgraded, where=str(expdir / RECORD)))
            except ConfigError:
                pass  # a setting today's config lacks or refuses: the comparison below names it
        old = {**old, "config": upgraded}
    diff = differences(_comparable(old), _comparable(record))
    if not diff:
        return Claim("continue", [])
    allowed = [d for d in diff if d.startswith(tuple(f"config.{p}" for p in may_change))]
    if resuming and len(allowed) == len(diff):
        return Claim("continue", allowed)
    blocking = [d for d in diff if d not in allowed] if resuming else diff
    listed = "; ".join(blocking[:6]) + (" ..." if len(blocking) > 6 else "")
    made_by = " ".join(map(str, old.get("command", []))) or "?"
    if resuming:
        advice = (
            f"a resume may only change {', '.join(may_change) or 'nothing'}: start a new experiment (another "
            "name) or pass --overwrite to move the old contents aside and start over"
        )
    else:
        advice = (
            f"resume that run with -e {expdir}, pass --overwrite to move the old contents aside and start "
            "over, or choose another experiment name"
        )
    raise ExperimentError(
        f"{expdir} holds another {old.get('kind', '?')} run (made by: {made_by}); it differs in "
        f"{listed}. To go on: {advice}"
    )


@dataclass
class OpenedExperiment:
    """A folder this process holds (``lock``) and has claimed: see :func:`open_experiment`."""

    expdir: Path
    action: str  # as Claim.action
    changes: list[str]
    moved_to: Path | None  # where --overwrite moved the old contents
    lock: FolderLock

    def close(self) -> None:
        """Release the folder. A new run that produced nothing but its record (it failed at the
        start: a bad corpus, a wrong flag) takes the record back, so the folder is free for any run."""
        if self.action in ("new", "overwrite") and self.lock.held:
            contents = [p.name for p in self.expdir.iterdir() if p.name != LOCK_NAME]
            if contents == [RECORD]:
                (self.expdir / RECORD).unlink()
        self.lock.release()

    def __enter__(self) -> OpenedExperiment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_experiment(
    expdir: str | Path,
    record: dict | None,
    resuming: bool = False,
    overwrite: bool = False,
    may_change: tuple[str, ...] = (),
    config_class: type | None = None,
) -> OpenedExperiment:
    """Lock ``expdir``, decide how this run may use it (:func:`claim`), move an old run aside for
    ``--overwrite``, and write ``record`` at once.

    The lock comes first, so the decision is taken by the only writer; the record is the first file
    written, so a start interrupted at any later point leaves a folder the same command recognises
    as its own (and a record write killed midway leaves only a dead writer's temp file, removed
    here). ``record`` None: lock only (e.g. evaluating a finished experiment). Call ``close()`` when
    the run ends (the operating system releases the lock anyway when the process dies).
    """
    expdir = Path(expdir)
    lock = FolderLock(expdir).acquire()
    try:
        remove_stale_temp_files(expdir)
        if record is None:
            return OpenedExperiment(expdir, "continue", [], None, lock)
        decision = claim(expdir, record, resuming, overwrite, may_change, config_class)
        moved = None
        if decision.action == "overwrite":
            moved = move_aside(expdir)  # our lock file moves with it, still held: nobody else is inside
            fresh = FolderLock(expdir).acquire()
            lock.release()
            lock = fresh
        write_record(expdir, record)
    except BaseException:
        lock.release()
        raise
    return OpenedExperiment(expdir, decision.action, decision.changes, moved, lock)


def move_aside(expdir: Path) -> Path:
    """Rename ``expdir`` to ``expdir.old-<time>`` (never delete a user's results)."""
    expdir = Path(expdir)
    target = expdir.with_name(f"{expdir.name}.old-{time.strftime('%Y%m%d-%H%M%S')}")
    n = 1
    while target.exists():
        target = expdir.with_name(f"{expdir.name}.old-{time.strftime('%Y%m%d-%H%M%S')}-{n}")
        n += 1
    expdir.rename(target)
    return target
