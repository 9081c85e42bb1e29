"""The one frame-label convention: which 10 ms label belongs to which feature frame.

The feature extractor (``aalbert.upstream.features``, like s3prl's) runs a centred STFT with a
hop of 160 samples, so feature frame ``i`` is centred on sample ``160 i`` and an utterance of
``n`` samples has ``n // 160 + 1`` frames. Labels follow the same grid: frame ``i`` takes the
phone that covers sample ``160 i``. A phone starting at sample ``s`` is therefore first
labelled in frame ``ceil(s / 160)``, the first frame whose centre lies inside the phone (and
whose 400-sample analysis window holds more of the new phone than of the old one).

Every reader that turns timed segments into frame labels (TIMIT ``.PHN``, TextGrids, Lhotse
alignments, the synthetic corpus) calls :func:`segment_frame_labels`; nothing else computes
frame positions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

HOP_SAMPLES = 160  # 10 ms at 16 kHz: one label frame
SAMPLE_RATE = 16000


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
