"""Reading checkpoint files safely: weights-only, verified, and clear about what is wrong.

Every checkpoint the toolkit reads goes through :func:`load_checkpoint_file`. It uses torch's
weights-only unpickler, so nothing in a file can run code. Files written by other programs
often hold pickled objects of their own classes (s3prl's pretraining saves its optimizer with
a learning-rate schedule object of its ``optimizers`` module); such a class is never imported:
it is replaced by an inert :class:`SkippedObject` that only records what the file held, and a
warning names it. Tensors and plain values load as usual.

A zip checkpoint's CRCs are checked before unpickling, so a flipped bit is an error naming
the file instead of a model that outputs NaN. ``allow_unsafe_pickle=True`` is the explicit
opt-in to plain ``torch.load`` for trusted files.
"""

from __future__ import annotations

import argparse
import pickle
import re
import warnings
import zipfile
from pathlib import Path
from typing import Any

import torch

from aalbert.errors import AalbertError

# classes a checkpoint may hold that are harmless to construct and useful to keep as they are
KNOWN_SAFE_GLOBALS: tuple = (argparse.Namespace,)
# how many foreign classes one file may name before we give up (each costs one more read)
_MAX_FOREIGN = 64
_UNSUPPORTED_GLOBAL = re.compile(r"GLOBAL (\S+) was not an allowed global")
_BLOCKED_GLOBAL = re.compile(r"GLOBAL (\S+) whose module (\S+) is blocked")


class CheckpointError(AalbertError, ValueError):
    """A checkpoint that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"checkpoint {path}: {problem}")


class SkippedPickleWarning(UserWarning):
    """A checkpoint held objects of classes that were not imported (see SkippedObject)."""


class SkippedObject:
    """Stands in for an object of a class the file names but we never import.

    Construction and unpickling only store their arguments: nothing the file names is called.
    """

    pickled_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> SkippedObject:
        obj = object.__new__(cls)
        obj.args, obj.state = args, None
        return obj

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<skipped {self.pickled_name}>"


def _placeholder(name: str) -> type:
    return type(f"Skipped[{name}]", (SkippedObject,), {"pickled_name": name})


def _foreign_globals(path: Path) -> list[str]:
    """Classes/functions a zip checkpoint names beyond torch's weights-only set (static scan)."""
    try:
        with torch.serialization.safe_globals(list(KNOWN_SAFE_GLOBALS)):
            return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(str(path)))
    except Exception:  # noqa: BLE001 - legacy (non-zip) files: found one by one while loading
        return []


def _check_zip(path: Path) -> None:
    """A flipped bit in a zip checkpoint fails its CRC; torch's reader does not check it."""
    if not zipfile.is_zipfile(path):
        return  # torch's legacy format: no checksums to verify
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        raise CheckpointError(path, f"is corrupt: its zip structure cannot be read ({err})") from err
    if bad is not None:
        raise CheckpointError(
            path,
            f"is corrupt: the CRC of {bad!r} inside it does not match (a damaged or "
            "truncated copy; download or copy it again)",
        )


def _full_name(name: str) -> str:
    # torch's message strips the "builtins." prefix of builtins
    return name if "." in name else f"builtins.{name}"


def load_checkpoint_file(path: str | Path, allow_unsafe_pickle: bool = False, expected: type = dict) -> Any:
    """What ``torch.save`` wrote to ``path``, loaded on the CPU without running code from the file.

    Objects of foreign classes come back as :class:`SkippedObject` (a SkippedPickleWarning
    names their classes). Errors are :class:`CheckpointError` naming the file: missing, empty,
    corrupt, not a torch checkpoint, naming a forbidden function (``os.system`` ...), or not
    holding an ``expected`` (every checkpoint, ours and s3prl's, is a dict; ``object`` takes anything).
    """
    obj = _load(Path(path), allow_unsafe_pickle)
    if not isinstance(obj, expected):
        raise CheckpointError(path, f"expected a {expected.__name__}, got {type(obj).__name__}")
    return obj


def _load(path: Path, allow_unsafe_pickle: bool) -> Any:
    if not path.is_file():
        raise CheckpointError(path, "file not found")
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty (0 bytes): not a checkpoint (an interrupted copy or download?)")
    _check_zip(path)
    if allow_unsafe_pickle:
        try:
            return torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # noqa: BLE001 - any failure of a trusted load is still the file's problem
            raise CheckpointError(path, f"cannot be loaded ({type(err).__name__}: {err})") from err
    foreign = {name: _placeholder(name) for name in _foreign_globals(path)}
    while True:
        allowed = [*KNOWN_SAFE_GLOBALS, *((cls, name) for name, cls in foreign.items())]
        try:
            with torch.serialization.safe_globals(allowed):
                obj = torch.load(path, map_location="cpu", weights_only=True)
            break
        except pickle.UnpicklingError as err:
            text = str(err)
            blocked = _BLOCKED_GLOBAL.search(text)
            if blocked:
                raise CheckpointError(
                    path,
                    f"names the forbidden global {blocked.group(1)} (module {blocked.group(2)}): "
                    "a model checkpoint never needs it; refused",
                ) from err
            found = _UNSUPPORTED_GLOBAL.search(text)
            name = _full_name(found.group(1)) if found else None
            if name is None or name in foreign:
                raise CheckpointError(path, f"is corrupt or not a torch checkpoint ({_first_line(text)})") from err
            if len(foreign) >= _MAX_FOREIGN:
                raise CheckpointError(path, f"names more than {_MAX_FOREIGN} foreign classes; refused") from err
            foreign[name] = _placeholder(name)  # legacy format: found while loading, load again
        except Exception as err:  # noqa: BLE001 - junk bytes fail in many ways inside the unpickler
            raise CheckpointError(path, f"is corrupt or not a torch checkpoint ({_first_line(str(err))})") from err
    if foreign:
        warnings.warn(
            f"checkpoint {path}: skipped objects of {len(foreign)} class(es) not imported "
            f"(inert placeholders, weights unaffected): {', '.join(sorted(foreign))}",
            SkippedPickleWarning,
            stacklevel=3,
        )
    return obj


def _first_line(text: str) -> str:
    marker = "WeightsUnpickler error:"
    if marker in text:
        text = text.split(marker, 1)[1]
    return text.strip().split("\n")[0][:300]
