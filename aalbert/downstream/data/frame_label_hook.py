"""Frame labels a task computes itself: its expert's ``frame_labels(name, wave)`` hook, run once per
utterance and kept on disk.

The hook maps an utterance's wave (mono float32, 16 kHz) to one class name per 10 ms frame
(:mod:`aalbert.corpus.frames`: frame ``i`` is centred on sample ``160 i``). It runs while the
corpus is read, before the expert exists, so it is a ``@staticmethod`` (or ``@classmethod``).

Its results are cached in ``$AALBERT_CACHE_DIR`` (default ``~/.cache/aalbert``)/``frame_labels/``,
one JSON file per task, label and corpus (its roots), as the corpus scan keeps its manifest
(:mod:`aalbert.corpus.scan_cache`): a second scan reads the labels back instead of running the
hook again. An entry is used only while

* the audio is the same: :func:`aalbert.downstream.feature_cache.audio_key` (path, size,
  modification time, a hash of the file's first and last 64 KiB, the segment and channel), the
  feature cache's own test;
* the hook is the same: the expert's ``frame_labels_version`` (raise it when something the hook
  calls changes) and a hash of the hook's own source code (an edit of the hook is seen without it).

``data.scan_cache: false`` turns the file off (the hook then runs at every scan). Writing is
atomic; an unreadable file is rebuilt.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F

from aalbert.atomic import write_text_atomic
from aalbert.audio_rate import HOP_SAMPLES
from aalbert.corpus.frames import num_frames
from aalbert.corpus.problems import Problems
from aalbert.corpus.scan_cache import cache_root
from aalbert.corpus.utterance import CorpusListing, Utterance, load_utterance_audio
from aalbert.errors import TaskRequirementError
from aalbert.safe_names import file_name

from ..feature_cache import audio_key
from .labels import MAX_MISMATCH

log = logging.getLogger(__name__)
FORMAT = 1
HookFunction = Callable[[str, torch.Tensor], Sequence[str]]


@dataclass(frozen=True)
class FrameLabelHook:
    """A task's hook and what identifies it in the cache."""

    function: HookFunction
    where: str  # "module.Class.frame_labels", for messages
    version: str  # the expert's frame_labels_version, as text
    source_sha256: str  # of the hook's source code ("" when Python cannot show it)

    def identity(self) -> dict:
        return {"hook": self.where, "version": self.version, "source_sha256": self.source_sha256}


def _owner(function: object) -> type | None:
    """The class a hook function was defined in, when Python can find it (a module-level class)."""
    owner = getattr(function, "__self__", None)  # a classmethod, bound
    if isinstance(owner, type):
        return owner
    found: object = sys.modules.get(getattr(function, "__module__", "") or "")
    for part in getattr(function, "__qualname__", "<locals>").split(".")[:-1]:
        found = getattr(found, part, None)
    return found if isinstance(found, type) else None


def frame_label_hook(hook: object) -> FrameLabelHook | None:
    """``hook`` as the corpus loader passes it: the expert class (its ``frame_labels`` and
    ``frame_labels_version``), the ``frame_labels`` function itself, or None (no hook)."""
    if hook is None:
        return None
    owner = hook if isinstance(hook, type) else _owner(hook)
    function = getattr(hook, "frame_labels", None) if isinstance(hook, type) else hook
    if function is None:
        return None
    if not callable(function):
        raise TypeError(f"a frame label hook is an expert class or a function, got {hook!r}")
    name = getattr(function, "__qualname__", repr(function))
    where = (
        f"{getattr(function, '__module__', '?')}.{name}"
        if owner is None
        else f"{owner.__module__}.{owner.__qualname__}.frame_labels"
    )
    defined = inspect.getattr_static(owner, "frame_labels", None) if owner is not None else None
    try:
        takes_self = next(iter(inspect.signature(function).parameters), "") == "self"
    except (TypeError, ValueError):
        takes_self = False
    if takes_self or inspect.isfunction(defined):  # a plain method: there is no instance yet to call it on
        raise TaskRequirementError(
            f"{where} must be a @staticmethod (or @classmethod) taking (name, wave): it runs while the "
            "corpus is read, before the expert exists"
        )
    version = getattr(owner, "frame_labels_version", getattr(function, "frame_labels_version", 0))
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):  # defined in a REPL, or a builtin: the version alone identifies it
        source = ""
    return FrameLabelHook(function, where, str(version), hashlib.sha256(source.encode()).hexdigest() if source else "")


def cache_path(task: str, name: str, roots: Sequence[str | Path]) -> Path:
    """Where the labels ``name`` that ``task``'s hook computed for the corpus at ``roots`` are kept."""
    key = "\n".join([task, name] + [str(Path(r).resolve()) for r in roots])
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    return cache_root().parent / "frame_labels" / f"{file_name(task)[:40]}-{file_name(name)[:40]}-{digest}.json"


def _run_length(labels: Sequence[str]) -> list[list]:
    """[[name, count], ...]: frame labels repeat for tens of frames, so the cache stays small."""
    runs: list[list] = []
    for label in labels:
        if runs and runs[-1][0] == label:
            runs[-1][1] += 1
        else:
            runs.append([label, 1])
    return runs


def _expand(runs: list[list]) -> list[str]:
    return [str(label) for label, count in runs for _ in range(int(count))]


def _checked(hook: FrameLabelHook, utt: Utterance, labels: object, problems: Problems) -> list[str] | None:
    """The hook's answer if it is a class name per frame of ``utt``; else None and a problem naming the audio."""
    if isinstance(labels, str) or not isinstance(labels, Sequence) or not all(isinstance(x, str) for x in labels):
        problems.add(
            utt.path,
            f"utterance {utt.uttid}: {hook.where} returned {type(labels).__name__}, not a list of class names (str)",
        )
        return None
    expected = num_frames(utt.measured_num_samples())
    if abs(len(labels) - expected) > MAX_MISMATCH:
        problems.add(
            utt.path,
            f"utterance {utt.uttid}: {hook.where} returned {len(labels)} frame labels for audio of {expected} "
            f"10 ms frames (aalbert.corpus.frames.num_frames); more than {MAX_MISMATCH} apart",
        )
        return None
    return list(labels)


def hook_frame_labels(
    hook: FrameLabelHook, task: str, name: str, listing: CorpusListing, problems: Problems, use_cache: bool = True
) -> Iterator[tuple[Utterance, list[str]]]:
    """(utterance, a class name per 10 ms frame) for every utterance of ``listing``, from the cache
    when its audio and the hook are unchanged, else by running the hook (the cache is then updated)."""
    path = cache_path(task, name, listing.roots)
    entries: dict[str, dict] = {}
    if use_cache and path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
            if stored.get("format") == FORMAT and stored.get("identity") == hook.identity():
                entries = stored["entries"]
        except (ValueError, KeyError, OSError, AttributeError):
            log.info("frame label cache %s is unreadable: rebuilding it", path)
    kept: dict[str, dict] = {}
    computed = reused = 0
    for utt in listing.utterances:
        key = json.loads(json.dumps(audio_key(utt)))  # as it reads back from the file
        cached = entries.get(utt.uttid)
        if isinstance(cached, dict) and cached.get("key") == key and "labels" in cached:
            kept[utt.uttid] = cached
            reused += 1
            yield utt, _expand(cached["labels"])
            continue
        try:
            answer = hook.function(name, load_utterance_audio(utt))
        except Exception:  # the task's own code: its traceback is what helps; say which utterance it met
            log.error("frame.%s: %s failed on utterance %s (%s)", name, hook.where, utt.uttid, utt.path)
            raise
        computed += 1
        labels = _checked(hook, utt, answer, problems)
        if labels is not None:
            kept[utt.uttid] = {"key": key, "labels": _run_length(labels)}
            yield utt, labels
    if use_cache and (computed or len(kept) != len(entries)):
        document = {"format": FORMAT, "task": task, "label": name, "identity": hook.identity(), "entries": kept}
        try:
            write_text_atomic(path, json.dumps(document))
        except OSError as err:  # a cache that cannot be written costs time, not correctness
            log.warning("cannot write frame label cache %s: %s", path, err)
    log.info(
        "frame.%s: %s ran on %d utterance(s); %d from the cache %s",
        name,
        hook.where,
        computed,
        reused,
        path if use_cache else "(off: data.scan_cache)",
    )


def energy_vad(wave: torch.Tensor, margin_db: float = 6.0, window: int = 400) -> list[str]:
    """``"speech"`` or ``"silence"`` per 10 ms frame (frame ``i`` centred on sample ``160 i``, as
    :mod:`aalbert.corpus.frames`): a frame is speech when the energy of the ``window`` samples around
    its centre is more than ``margin_db`` above the utterance's noise floor (its 10th percentile of
    frame energies). A simple voice activity detector, and the example hook of docs/adding_a_task.md;
    an utterance without pauses has no floor to find, so its quietest tenth reads as silence."""
    padded = F.pad(wave.reshape(1, 1, -1).float(), (window // 2, window // 2)).reshape(-1)
    frames = padded.unfold(0, window, HOP_SAMPLES)  # n // 160 + 1 frames: num_frames(n)
    energy_db = 10 * torch.log10(frames.pow(2).mean(1) + 1e-10)
    floor = torch.quantile(energy_db, 0.1)
    return ["speech" if e > floor + margin_db else "silence" for e in energy_db.tolist()]
