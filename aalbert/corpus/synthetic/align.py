"""Phone segments from eSpeak's phoneme events, and 10 ms frame labels from segments.

eSpeak reports where each phoneme starts (``sample``). A phoneme lasts until the next event;
pauses and audio before the first event are silence. Stops are reported at their burst, so the
run of exact digital zeros before it (the closure) is moved from the previous phone into the
stop, as a forced aligner would label it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from aalbert.corpus import frames

from .espeak import PhonemeEvent
from .phones import MERGE_WITH_PREVIOUS, PHONE_ID, SILENCE, STOPS, fold

MIN_CLOSURE = 22  # zero runs shorter than 1 ms at 22050 Hz are zero crossings, not closures


@dataclass
class Segment:
    start: int  # first sample
    end: int  # one past the last sample
    phone: str  # ARPAbet or "sil"


def segments_from_events(events: Sequence[PhonemeEvent], wave: np.ndarray, context: str = "") -> list[Segment]:
    """Contiguous segments covering ``wave`` (same sample rate as the events)."""
    n = len(wave)
    segs: list[Segment] = [Segment(0, 0, SILENCE)]
    for k, ev in enumerate(events):
        start = min(max(ev.sample, segs[-1].start), n)
        end = n if k + 1 == len(events) else min(max(events[k + 1].sample, start), n)
        if ev.name in MERGE_WITH_PREVIOUS:
            segs[-1].end = max(segs[-1].end, end)
            continue
        segs[-1].end = start
        segs.append(Segment(start, end, fold(ev.name, context)))
    segs[-1].end = n
    _move_closures(segs, wave)
    return _merge(segs)


def _move_closures(segs: list[Segment], wave: np.ndarray) -> None:
    for prev, seg in zip(segs, segs[1:]):
        # after a pause the zeros are silence, not a closure one could hear or align
        if seg.phone not in STOPS or prev.phone == SILENCE:
            continue
        i = seg.start
        while i > prev.start + 1 and wave[i - 1] == 0:
            i -= 1
        if seg.start - i >= MIN_CLOSURE:
            prev.end = seg.start = i


def _merge(segs: list[Segment]) -> list[Segment]:
    """Drop empty segments and join neighbours with the same label (e.g. ``_:`` then ``_``)."""
    out: list[Segment] = []
    for seg in segs:
        if seg.end <= seg.start:
            continue
        if out and out[-1].phone == seg.phone and out[-1].end == seg.start and seg.phone == SILENCE:
            out[-1].end = seg.end
        else:
            out.append(Segment(seg.start, seg.end, seg.phone))
    return out


def rescale(segs: list[Segment], num: int, den: int, length: int) -> list[Segment]:
    """Segments at a new sample rate (positions * num / den, rounded), covering ``length`` samples."""
    bounds = [min(length, int(round(s.start * num / den))) for s in segs] + [length]
    out = [Segment(bounds[k], bounds[k + 1], s.phone) for k, s in enumerate(segs)]
    return [s for s in out if s.end > s.start]


def frame_phone_ids(segs: list[Segment], num_samples: int) -> list[int]:
    """The synthetic corpus's frame labels: each segment's ARPAbet name as its id in ``PHONE_ID``,
    framed by the project's one convention (:func:`aalbert.corpus.frames.segment_frame_labels`),
    silence outside the segments."""
    return frames.segment_frame_labels(
        [(s.start, s.end, PHONE_ID[s.phone]) for s in segs], num_samples, fill=PHONE_ID[SILENCE]
    )
