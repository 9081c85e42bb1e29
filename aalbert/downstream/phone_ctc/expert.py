from aalbert.downstream.ctc import PhoneCTCExpert as Expert

__all__ = ["Expert"]
