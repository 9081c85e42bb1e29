"""phone_1hidden uses the shared frame classifier; its config.yaml sets hidden_layers: 1."""

from aalbert.downstream.frame_classifier import FrameClassifierExpert as Expert

__all__ = ["Expert"]
