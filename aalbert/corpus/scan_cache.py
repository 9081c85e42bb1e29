"""What a corpus's audio files hold, cached so a large corpus is not re-read at every start.

Reading each file's header, and decoding each file once to see that its samples are all there
(:mod:`aalbert.corpus.audio_check`), is what makes a first scan slow. The cache keeps, per
corpus, every audio file's identity (:func:`aalbert.audio.audio_file_key`: path, size,
modification time, sha256 of the first and last 64 KiB: the feature cache's key), its header
facts (samples, rate) and what decoding it showed, in one JSON manifest; the next scan reads
only the identity of each file, and reads the header of (and decodes) only the files that are
new or whose identity changed. The manifest lives in ``$AALBERT_CACHE_DIR`` (default
``~/.cache/aalbert``)/``corpus_scans/``, keyed by the corpus roots, so read-only corpora work
too. Writing is atomic; a damaged manifest (or one of an older version) is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from aalbert.atomic import write_text_atomic
from aalbert.audio import SAMPLE_RATE, AudioError, audio_file_key, audio_info

from . import audio_check
from .audio_check import FACTS_VERSION, default_workers, map_files

if TYPE_CHECKING:
    from .problems import Problems

log = logging.getLogger(__name__)
VERSION = 2


def cache_root() -> Path:
    return Path(os.environ.get("AALBERT_CACHE_DIR", Path.home() / ".cache" / "aalbert")) / "corpus_scans"


def manifest_path(fmt: str, roots: Iterable[str | Path]) -> Path:
    """One manifest per corpus: its format and its (resolved) root folders."""
    key = "\n".join([fmt] + [str(Path(r).resolve()) for r in roots])
    return cache_root() / f"{fmt}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"


def read_file(path: str) -> dict:
    """A cold scan's work on one file (run in a worker process): its header, then its decoding."""
    try:
        frames, rate = audio_info(path)
    except AudioError as err:
        return {"header_error": err.problem}
    return {"frames": frames, "rate": rate, "facts": audio_check.decode_file(path)}


def _identity(path: str) -> dict | None:
    try:
        return audio_file_key(path)
    except FileNotFoundError:
        return None  # the reader says so, naming the line that lists it


def _complete(entry: dict) -> bool:
    facts = entry.get("facts")
    return ("frames" in entry or "header_error" in entry) and (
        "header_error" in entry or (facts is not None and facts.get("version") == FACTS_VERSION)
    )


class AudioInfoCache:
    """Header facts (:meth:`info`) and decoding facts (:meth:`decoded`) of a corpus's audio files,
    from the manifest when a file is unchanged. ``workers``: processes reading and decoding the
    files (default :func:`aalbert.corpus.audio_check.default_workers`)."""

    def __init__(self, fmt: str, roots: Iterable[str | Path], enabled: bool = True, workers: int | None = None):
        self.path = manifest_path(fmt, roots)
        self.enabled = enabled
        self.workers = workers if workers is not None else default_workers()
        self.entries: dict[str, dict] = {}
        self.hits = self.misses = self.decodes = 0
        if enabled and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") == VERSION:
                    self.entries = data["files"]
            except (ValueError, KeyError, OSError):
                log.info("corpus scan cache %s is unreadable: rebuilding it", self.path)
        self._seen: dict[str, dict] = {}

    def prefetch(self, paths: Iterable[str | Path]) -> None:
        """Everything a scan needs of ``paths``: the identity of each file (here: a stat and 128 KiB
        at most), and the header and decoding of each new or changed file, in ``workers``
        processes. Later calls of :meth:`info` and :meth:`decoded` find it all here."""
        todo = []
        for name in dict.fromkeys(map(str, paths)):
            identity = None if name in self._seen else _identity(name)
            if identity is None:
                continue
            cached = self.entries.get(name)
            if cached is not None and cached.get("key") == identity and _complete(cached):
                self.hits += 1
                self._seen[name] = cached
            else:
                self._seen[name] = {"key": identity}
                todo.append(name)

        def done(name: str, found: dict) -> None:
            self._seen[name].update(found)
            self.misses += 1
            self.decodes += "facts" in found

        map_files(read_file, todo, self.workers, done)

    def _entry(self, path: str | Path) -> dict:
        """This scan's entry of ``path``: the manifest's when the file is unchanged, else a new one.
        ``FileNotFoundError`` when there is no such file."""
        name = str(path)
        if name not in self._seen:
            identity = audio_file_key(name)
            cached = self.entries.get(name)
            fresh = cached is not None and cached.get("key") == identity
            self.hits += fresh
            self._seen[name] = cached if fresh and cached is not None else {"key": identity}
        return self._seen[name]

    def info(self, path: str | Path) -> tuple[int, int]:
        """(samples, rate) from the header; ``AudioError`` naming the file when it cannot be read."""
        entry = self._entry(path)
        if "header_error" in entry:
            raise AudioError(path, entry["header_error"])
        if "frames" not in entry:
            self.misses += 1
            entry["frames"], entry["rate"] = audio_info(path)
        return entry["frames"], entry["rate"]

    def usable_samples(self, path: Path, problems: Problems, uttid: str | None = None) -> int | None:
        """The file's length in samples, or None after telling ``problems`` why it cannot be used
        (:meth:`Problems.add_audio`; ``uttid``: the utterance it holds, default the file's stem):
        unreadable header, another sample rate, no samples."""
        try:
            frames, rate = self.info(path)
        except AudioError as err:
            problem: str | None = err.problem
        else:
            problem = None
            if rate != SAMPLE_RATE:
                problem = f"sample rate is {rate} Hz, expected {SAMPLE_RATE} Hz (resample it first)"
            elif frames == 0:
                problem = "audio file is empty (0 samples)"
        if problem is not None:
            problems.add_audio(path, problem, uttids=[uttid or path.stem])
            return None
        return frames

    def decoded(self, paths: Iterable[str]) -> dict[str, dict]:
        """What decoding each file showed (aalbert.corpus.audio_check.decode_file); only the files
        not in the manifest, or changed since (and not prefetched), are decoded (in parallel)."""
        out: dict[str, dict] = {}
        todo = []
        for path in paths:
            facts = self._entry(path).get("facts")
            if facts is not None and facts.get("version") == FACTS_VERSION:
                out[path] = facts
            else:
                todo.append(path)

        def done(path: str, facts: dict) -> None:
            self._seen[path]["facts"] = out[path] = facts
            self.decodes += 1

        map_files(audio_check.decode_file, todo, self.workers, done)
        return out

    def save(self) -> None:
        """Write the manifest of the files seen in this scan (files gone since are dropped)."""
        changed = self.misses or self.decodes or self.hits != len(self._seen) or len(self._seen) != len(self.entries)
        if not self.enabled or not changed:
            return
        try:
            write_text_atomic(self.path, json.dumps({"version": VERSION, "files": self._seen}))
        except OSError as err:  # a cache that cannot be written costs time, not correctness
            log.warning("cannot write corpus scan cache %s: %s", self.path, err)
        log.info(
            "corpus scan: %d header(s) read and %d file(s) decoded; %d file(s) from the cache %s",
            self.misses,
            self.decodes,
            self.hits,
            self.path,
        )
