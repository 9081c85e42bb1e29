"""Task utterance_pitch: the pitch of each utterance's tone, in Hz (a plugin example of regression)."""

from .expert import Expert

__all__ = ["Expert"]
