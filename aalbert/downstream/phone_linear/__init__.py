"""Task phone_linear: frame-level phone classification with 0 hidden layer(s)."""

from .expert import Expert
