"""Task speaker_frame: per-frame speaker classification (frame and utterance accuracy)."""

from .expert import Expert
