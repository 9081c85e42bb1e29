"""Task phone_2hidden: frame-level phone classification with 2 hidden layer(s)."""

from .expert import Expert
