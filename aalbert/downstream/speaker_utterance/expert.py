from aalbert.downstream.speaker import SpeakerUtteranceExpert as Expert

__all__ = ["Expert"]
