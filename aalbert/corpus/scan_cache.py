"""Audio lengths of a corpus, cached so a large corpus is not re-read at every start.

Reading each file's header is what makes a scan slow (280k opens for LibriSpeech). The cache
keeps, per corpus, every audio file's ``size``, ``mtime`` and header facts (samples, rate) in
one JSON manifest; the next scan only ``stat``s each file and re-reads the headers of files
whose size or mtime changed (or that are new). The manifest lives in ``$AALBERT_CACHE_DIR``
(default ``~/.cache/aalbert``)/``corpus_scans/``, keyed by the corpus roots, so read-only
corpora work too. Writing is atomic; a damaged manifest is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable
from pathlib import Path

from aalbert.atomic import write_text_atomic
from aalbert.audio import SAMPLE_RATE, AudioError, audio_info

log = logging.getLogger(__name__)
VERSION = 1


def cache_root() -> Path:
    return Path(os.environ.get("AALBERT_CACHE_DIR", Path.home() / ".cache" / "aalbert")) / "corpus_scans"


def manifest_path(fmt: str, roots: Iterable[str | Path]) -> Path:
    """One manifest per corpus: its format and its (resolved) root folders."""
    key = "\n".join([fmt] + [str(Path(r).resolve()) for r in roots])
    return cache_root() / f"{fmt}-{hashlib.sha1(key.encode()).hexdigest()[:16]}.json"


class AudioInfoCache:
    """``info(path) -> (num_samples, sample_rate)``, from the manifest when the file is unchanged."""

    def __init__(self, fmt: str, roots: Iterable[str | Path], enabled: bool = True):
        self.path = manifest_path(fmt, roots)
        self.enabled = enabled
        self.entries: dict[str, list[int]] = {}
        self.hits = self.misses = 0
        if enabled and self.path.is_file():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                if data.get("version") == VERSION:
                    self.entries = data["files"]
            except (ValueError, KeyError, OSError):
                log.info("corpus scan cache %s is unreadable: rebuilding it", self.path)
        self._seen: dict[str, list[int]] = {}

    def info(self, path: str | Path, stat: os.stat_result | None = None) -> tuple[int, int]:
        """Raises ``AudioError`` naming the file when its header cannot be read."""
        key = str(path)
        st = stat if stat is not None else os.stat(key)
        cached = self.entries.get(key)
        if cached is not None and cached[0] == st.st_size and cached[1] == st.st_mtime_ns:
            self.hits += 1
            self._seen[key] = cached
            return cached[2], cached[3]
        self.misses += 1
        frames, rate = audio_info(path)
        self._seen[key] = [st.st_size, st.st_mtime_ns, frames, rate]
        return frames, rate

    def usable_samples(self, path: Path, stat: os.stat_result | None, problems) -> int | None:
        """The file's length in samples, or None after telling ``problems`` (an
        aalbert.corpus.problems.Problems) why it cannot be used: unreadable header, another
        sample rate, no samples."""
        try:
            frames, rate = self.info(path, stat)
        except AudioError as err:
            problems.add(path, err.problem)
            return None
        if rate != SAMPLE_RATE:
            problems.add(path, f"sample rate is {rate} Hz, expected {SAMPLE_RATE} Hz (resample it first)")
            return None
        if frames == 0:
            problems.add(path, "audio file is empty (0 samples)")
            return None
        return frames

    def try_info(self, path: str | Path) -> tuple[int, int] | AudioError:
        try:
            return self.info(path)
        except FileNotFoundError:
            return AudioError(path, "audio file not found")
        except AudioError as err:
            return err

    def save(self) -> None:
        """Write the manifest of the files seen in this scan (files gone since are dropped)."""
        if not self.enabled or (self.misses == 0 and len(self._seen) == len(self.entries)):
            return
        try:
            write_text_atomic(self.path, json.dumps({"version": VERSION, "files": self._seen}))
        except OSError as err:  # a cache that cannot be written costs time, not correctness
            log.warning("cannot write corpus scan cache %s: %s", self.path, err)
        log.info("corpus scan: %d header(s) read, %d from the cache %s", self.misses, self.hits, self.path)
