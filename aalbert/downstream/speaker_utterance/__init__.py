"""Task speaker_utterance: speaker identification from mean-pooled features."""

from .expert import Expert
