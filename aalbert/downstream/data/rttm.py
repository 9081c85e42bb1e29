"""RTTM files (NIST's Rich Transcription Time Marked format), as diarization and voice activity tools write them.

A segment is a line ``SPEAKER FILE CHANNEL START DUR <NA> <NA> NAME <NA> <NA>`` (times in seconds
from the start of FILE); other line types (``SPKR-INFO``, ``NOSCORE``...) carry no segment and are
skipped. Segments need not tile anything: gaps are "no one", and segments may overlap (two
speakers at once). :func:`resolve_overlaps` turns them into a tiling, as frame labels need.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from pathlib import Path

from aalbert.corpus.frames import seconds_to_samples
from aalbert.corpus.problems import Problems


@dataclass(frozen=True)
class RttmSegment:
    start: int  # samples
    end: int
    label: str
    order: int  # lines in the order read: a later line wins a tie of starts
    line: int  # in its file, for messages
    path: Path  # the file


def read_rttm(paths: list[Path], problems: Problems) -> dict[str, list[RttmSegment]]:
    """FILE -> its SPEAKER segments, in samples of that FILE."""
    by_file: dict[str, list[RttmSegment]] = {}
    order = 0
    for path in paths:
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            if not parts or parts[0] != "SPEAKER":
                continue  # SPKR-INFO, NOSCORE... lines carry no segment
            if len(parts) < 8:
                problems.add(path, f"expected SPEAKER FILE CHANNEL START DUR <NA> <NA> NAME ..., got {line!r}", lineno)
                continue
            try:
                start, duration = float(parts[3]), float(parts[4])
            except ValueError:
                problems.add(path, f"START and DUR must be seconds, got {parts[3]!r} and {parts[4]!r}", lineno)
                continue
            if start < 0 or duration < 0:
                problems.add(path, f"negative START or DUR ({start} s, {duration} s)", lineno)
                continue
            order += 1
            begin = seconds_to_samples(start)
            segment = RttmSegment(begin, begin + seconds_to_samples(duration), parts[7], order, lineno, path)
            by_file.setdefault(parts[1], []).append(segment)
    return by_file


def resolve_overlaps(segments: list[RttmSegment], num_samples: int, fill: str) -> list[tuple[int, int, str]]:
    """Segments starting at 0 or later -> a tiling from 0 to ``num_samples`` (or the last end):
    ``fill`` where no segment is, else the one started last (then the later line) among those running."""
    bounds = sorted({0, num_samples} | {s.start for s in segments} | {s.end for s in segments})
    by_start = sorted(segments, key=lambda s: (s.start, s.order))
    running: list[tuple[int, int, int, str]] = []  # (-start, -order, end, label): the top started last
    tiling: list[tuple[int, int, str]] = []
    i = 0
    for a, b in zip(bounds, bounds[1:]):
        while i < len(by_start) and by_start[i].start <= a:
            s = by_start[i]
            heapq.heappush(running, (-s.start, -s.order, s.end, s.label))
            i += 1
        while running and running[0][2] <= a:  # ended: a segment below the top waits until it surfaces
            heapq.heappop(running)
        text = running[0][3] if running else fill
        if tiling and tiling[-1][2] == text:
            tiling[-1] = (tiling[-1][0], b, text)
        else:
            tiling.append((a, b, text))
    return tiling
