from .expert import Expert

__all__ = ["Expert"]
