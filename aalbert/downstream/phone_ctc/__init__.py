"""Task phone_ctc: phoneme recognition with CTC (greedy decoding, phone error rate)."""

from .expert import Expert
