"""phone_2hidden uses the shared frame classifier; its config.yaml sets hidden_layers: 2."""

from aalbert.downstream.frame_classifier import FrameClassifierExpert as Expert

__all__ = ["Expert"]
