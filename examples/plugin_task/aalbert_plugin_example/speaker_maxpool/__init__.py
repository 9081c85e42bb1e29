"""Task speaker_maxpool: speaker identification from max-pooled features (a plugin example)."""

from .expert import Expert

__all__ = ["Expert"]
