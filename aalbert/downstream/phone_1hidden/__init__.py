"""Task phone_1hidden: frame-level phone classification with 1 hidden layer(s)."""

from .expert import Expert
