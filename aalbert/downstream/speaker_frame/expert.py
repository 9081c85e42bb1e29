from aalbert.downstream.speaker import SpeakerFrameExpert as Expert

__all__ = ["Expert"]
