"""Reading checkpoint files safely: weights-only, verified, and clear about what is wrong.

Every checkpoint the toolkit reads goes through :func:`load_checkpoint_file`. It uses torch's
weights-only unpickler, so nothing in a file can run code. Files written by other programs
often hold pickled objects of their own classes (s3prl's pretraining saves its optimizer with
a learning-rate schedule object of its ``optimizers`` module); such a class is never imported:
it is replaced by an inert :class:`SkippedObject` that only records what the file held, and a
warning names it. Tensors and plain values load as usual.

A zip checkpoint's CRCs are checked before unpickling, so a flipped bit is an error naming
the file instead of a model that outputs NaN. The legacy (non-zip) format of torch < 1.6, which
s3prl-era files use, has no checksums: after loading, its floating tensors are checked for the
values a flipped exponent bit makes (NaN, inf, or a magnitude no trained weight reaches), and
the error names the tensor. ``allow_unsafe_pickle=True`` is the explicit opt-in to plain
``torch.load`` for trusted files. :func:`check_checkpoint_file` is what a download must pass
before it is kept.
"""

from __future__ import annotations

import argparse
import pickle
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from aalbert.errors import AalbertError

# classes a checkpoint may hold that are harmless to construct and useful to keep as they are
KNOWN_SAFE_GLOBALS: tuple = (argparse.Namespace,)
# how many foreign classes one file may name before we give up (each costs one more read)
_MAX_FOREIGN = 64
# a trained weight (or Adam moment) never comes near this, while flipping the top exponent bit
# of any float32 above ~4e-9 goes past it; float16 stops at 65504, so there only inf/NaN count
_LARGEST_PLAUSIBLE = 1e30
_ZIP_MAGIC = b"PK\x03\x04"
_UNSUPPORTED_GLOBAL = re.compile(r"GLOBAL (\S+) was not an allowed global")
_BLOCKED_GLOBAL = re.compile(r"GLOBAL (\S+) whose module (\S+) is blocked")


class CheckpointError(AalbertError):
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


def _head(path: Path, size: int = 512) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


def _is_zip(path: Path) -> bool:
    """torch's own test (the magic number): a zip cut short has no directory but is still one."""
    return _head(path, len(_ZIP_MAGIC)) == _ZIP_MAGIC


def _check_zip(path: Path) -> None:
    """A flipped bit in a zip checkpoint fails its CRC; torch's reader does not check it."""
    if not _is_zip(path):
        return  # torch's legacy format: no checksums to verify
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as err:
        # zipfile's "File is not a zip file" means no directory at the end: the file is cut short
        detail = "directory at its end is missing" if "not a zip file" in str(err) else f"structure fails ({err})"
        raise CheckpointError(path, f"is corrupt: its zip {detail}, a cut or damaged copy") from err
    if bad is not None:
        raise CheckpointError(
            path,
            f"is corrupt: the CRC of {bad!r} inside it does not match (a damaged or "
            "truncated copy; download or copy it again)",
        )


def _check_not_text(path: Path) -> None:
    """A web page or an error message saved in a checkpoint's place, said as such."""
    head = _head(path)
    if b"\0" in head:
        return
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return  # binary (a cut multi-byte character is not worth a special case)
    if re.match(r"\s*(<!doctype html|<html|<head|<body|<\?xml)", text, re.IGNORECASE):
        raise CheckpointError(
            path, "is an HTML page, not a checkpoint (a sign-in, error or warning page served in its place)"
        )
    raise CheckpointError(path, f"is corrupt or not a torch checkpoint: it holds text ({text.strip()[:60]!r} ...)")


def _tensors(obj: Any, key: str) -> Iterator[tuple[str, torch.Tensor]]:
    """Every tensor in ``obj`` (nested dicts, lists, tuples, skipped objects) with its key path."""
    if isinstance(obj, torch.Tensor):
        yield key, obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _tensors(v, f"{key}.{k}" if key else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _tensors(v, f"{key}.{i}" if key else str(i))
    elif isinstance(obj, SkippedObject):
        yield from _tensors((obj.args, obj.state), f"{key}<{obj.pickled_name}>")


def _check_values(obj: Any, path: Path) -> None:
    """A flipped exponent bit in a legacy file (no CRCs) shows as NaN, inf or an absurd magnitude."""
    for key, tensor in _tensors(obj, ""):
        if not tensor.is_floating_point() or tensor.numel() == 0:
            continue
        values = tensor.detach()
        lowest, highest = torch.aminmax(values)  # one pass, no copy; NaN propagates (and fails both)
        if bool(lowest >= -_LARGEST_PLAUSIBLE) and bool(highest <= _LARGEST_PLAUSIBLE):
            continue
        index = int((~(values.abs() <= _LARGEST_PLAUSIBLE)).flatten().nonzero()[0])
        value = float(values.flatten()[index])
        raise CheckpointError(
            path,
            f"is damaged: tensor {key} holds {value:.3g} at flat index {index}, a value no trained weight has "
            "(a flipped bit? the legacy, non-zip torch.save format has no checksums); download or copy it again",
        )


def check_checkpoint_file(path: str | Path) -> None:
    """Raise CheckpointError unless ``path`` is a whole torch checkpoint (what a download must be).

    A zip checkpoint: its directory and every CRC, and the pickle torch reads (nothing is
    unpickled). A legacy one has no checksums: it is loaded weights-only and its values checked.
    """
    path = Path(path)
    if path.stat().st_size == 0:
        raise CheckpointError(path, "is empty (0 bytes): not a checkpoint")
    if not _is_zip(path):
        with warnings.catch_warnings():  # foreign classes are said when the file is used
            warnings.simplefilter("ignore", SkippedPickleWarning)
            _load(path, allow_unsafe_pickle=False)
        return
    _check_zip(path)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    if not any(name == "data.pkl" or name.endswith("/data.pkl") for name in names):
        raise CheckpointError(path, "is a zip archive but not a torch checkpoint (no data.pkl inside)")


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
    legacy = not _is_zip(path)
    if legacy:
        _check_not_text(path)
    else:
        _check_zip(path)
    if allow_unsafe_pickle:
        try:
            trusted = torch.load(path, map_location="cpu", weights_only=False)
        except Exception as err:  # noqa: BLE001 - any failure of a trusted load is still the file's problem
            raise CheckpointError(path, f"cannot be loaded ({type(err).__name__}: {err})") from err
        if legacy:
            _check_values(trusted, path)
        return trusted
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
    if legacy:
        _check_values(obj, path)
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
