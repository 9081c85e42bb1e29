"""The one frame-label convention: which 10 ms label belongs to which feature frame.

The feature extractor (``aalbert.upstream.features``, like s3prl's) runs a centred STFT with a
hop of 160 samples, so feature frame ``i`` is centred on sample ``160 i`` and an utterance of
``n`` samples has ``n // 160 + 1`` frames. Labels follow the same grid: frame ``i`` takes the
phone that covers sample ``160 i``. A phone starting at sample ``s`` is therefore first
labelled in frame ``ceil(s / 160)``, the first frame whose centre lies inside the phone (and
whose 400-sample analysis window holds more of the new phone than of the old one).

Every reader that turns timed segments into frame labels (TIMIT ``.PHN``, TextGrids, Lhotse
alignments, the synthetic corpus) calls :func:`segment_frame_labels`; nothing else computes
frame positions. Before that, every reader checks the segments with :func:`tiling_problems`:
labels must tile the utterance, or frames in a gap would silently take a neighbour's label.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aalbert.audio_rate import HOP_SAMPLES, SAMPLE_RATE

# the most data.label_gap_tolerance_s may be: a gap or overlap of one frame moves at most one
# frame's label to a neighbour, which framing conventions disagree on anyway
MAX_GAP_TOLERANCE_S = HOP_SAMPLES / SAMPLE_RATE


def num_frames(num_samples: int) -> int:
    """Feature frames of an utterance of ``num_samples`` samples (centred STFT, hop 160)."""
    return int(num_samples) // HOP_SAMPLES + 1


def frame_centres(num_samples: int) -> np.ndarray:
    """Sample index at the centre of every frame: 0, 160, 320, ..."""
    return np.arange(num_frames(num_samples), dtype=np.int64) * HOP_SAMPLES


def seconds_to_samples(seconds: float) -> int:
    """Segment times in seconds (Kaldi, TextGrid, Lhotse) to the nearest sample at 16 kHz."""
    return int(round(float(seconds) * SAMPLE_RATE))


def segment_frame_labels(segments: Sequence[tuple[int, int, int]], num_samples: int, fill: int) -> list[int]:
    """Frame labels from ``(start, end, label)`` segments in samples, sorted by start.

    Frame ``i`` takes the label of the segment covering sample ``160 i``. A centre in a gap
    between two segments keeps the earlier segment's label (TIMIT's dropped ``q``); centres
    before the first segment or after the last one get ``fill`` (silence): that is how a
    transcription ending a little before the audio (e.g. a TIMIT ``.PHN`` whose final ``h#``
    stops short) is completed. Readers check beforehand that such gaps are small.
    """
    centres = frame_centres(num_samples)
    if not segments:
        return [fill] * len(centres)
    starts = np.array([s for s, _, _ in segments], dtype=np.int64)
    labels = np.array([lab for _, _, lab in segments], dtype=np.int64)
    index = np.searchsorted(starts, centres, side="right") - 1
    out = labels[np.clip(index, 0, None)]
    out[index < 0] = fill
    out[centres >= max(e for _, e, _ in segments)] = fill
    return out.tolist()


def _at(sample: int) -> str:
    return f"{sample / SAMPLE_RATE:.3f} s (sample {sample})"


def tiling_problems(
    segments: Sequence[tuple[int, int, object]], num_samples: int, gap_tolerance: int, end_tolerance: int
) -> list[str]:
    """How ``(start, end, label)`` segments in samples, in file order, fail to tile the utterance.

    The rule every reader of timed labels applies: the first segment starts at 0, each one
    starts where the one before it ended, both within ``gap_tolerance`` samples
    (``data.label_gap_tolerance_s``, at most one frame); the last one ends at ``num_samples``
    within ``end_tolerance`` (``data.label_tolerance_s``: real label files end a little early,
    and :func:`segment_frame_labels` labels that tail as silence). Returns one message per
    problem, naming its time in seconds and samples; empty when the segments tile.
    """
    if not segments:
        return ["no labels"]
    gap_key = f"data.label_gap_tolerance_s={gap_tolerance / SAMPLE_RATE:g}"
    problems = []
    first_start, _, first_label = segments[0]
    if abs(first_start) > gap_tolerance:
        problems.append(
            f"labels start at {_at(first_start)} with {str(first_label)!r}, not at 0 "
            f"(more than {gap_tolerance} samples, {gap_key})"
        )
    for (_, end, label), (next_start, _, next_label) in zip(segments, segments[1:]):
        if abs(next_start - end) <= gap_tolerance:
            continue
        between = f"{str(label)!r} ending at {_at(end)} and {str(next_label)!r} starting at {_at(next_start)}"
        if next_start - end > gap_tolerance:
            frames = -(-next_start // HOP_SAMPLES) - -(-end // HOP_SAMPLES)  # frame centres inside the gap
            problems.append(
                f"gap of {(next_start - end) / SAMPLE_RATE:.3f} s ({next_start - end} samples, {frames} frames) "
                f"between {between}; labels must follow each other within {gap_tolerance} samples ({gap_key})"
            )
        else:
            problems.append(
                f"overlap of {(end - next_start) / SAMPLE_RATE:.3f} s ({end - next_start} samples) "
                f"between {between}; labels must follow each other within {gap_tolerance} samples ({gap_key})"
            )
    for start, end, label in segments:
        if end < start:
            problems.append(f"{str(label)!r} ends at {_at(end)}, before it starts at {_at(start)}")
    end = segments[-1][1]
    if end < num_samples - end_tolerance:
        problems.append(
            f"labels end at sample {end}, {num_samples - end} samples ({(num_samples - end) / SAMPLE_RATE:.2f} s) "
            f"before the audio ({num_samples} samples); more than the {end_tolerance}-sample tolerance "
            "(data.label_tolerance_s)"
        )
    elif end > num_samples + end_tolerance:
        problems.append(
            f"labels run to sample {end}, past the end of the audio ({num_samples} samples) by "
            f"{(end - num_samples) / SAMPLE_RATE:.2f} s, more than {end_tolerance} samples (data.label_tolerance_s)"
        )
    return problems
