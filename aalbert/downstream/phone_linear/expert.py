"""phone_linear uses the shared frame classifier; its config.yaml sets hidden_layers: 0."""

from aalbert.downstream.frame_classifier import FrameClassifierExpert as Expert

__all__ = ["Expert"]
