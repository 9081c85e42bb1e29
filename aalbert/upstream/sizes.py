"""The sizes every upstream states (the s3prl upstream contract), read and checked in one place.

Built-in upstreams and plugins alike are plain ``nn.Module``\\ s that set ``num_layers``,
``hidden_size`` and ``downsample_rate`` as attributes; to torch (and to a type checker) any
attribute of a module is a tensor or a submodule. :meth:`UpstreamSizes.of` reads them as ints,
with an error naming the upstream when one is missing or not an integer.
"""

from __future__ import annotations

import dataclasses
import operator
from dataclasses import dataclass

from torch import nn

from aalbert.errors import BadInputError


@dataclass(frozen=True)
class UpstreamSizes:
    """``num_layers`` counts Transformer layers (the papers' count): ``hidden_states`` holds
    ``num_layers + 1`` tensors of ``hidden_size`` features, one frame per ``downsample_rate``
    samples (16 kHz), as s3prl's ``get_downsample_rates`` means it."""

    num_layers: int
    hidden_size: int
    downsample_rate: int

    @property
    def num_hidden_states(self) -> int:
        """The input representation and each layer's output."""
        return self.num_layers + 1

    @classmethod
    def of(cls, upstream: nn.Module) -> UpstreamSizes:
        values = {}
        for f in dataclasses.fields(cls):
            try:
                # any integer (Python, numpy, a 0-dim tensor), never a float
                values[f.name] = operator.index(getattr(upstream, f.name))
            except (AttributeError, TypeError):
                name = getattr(upstream, "name", type(upstream).__name__)
                raise BadInputError(
                    f"upstream {name}: {f.name} must be an integer attribute (the s3prl upstream contract), "
                    f"got {getattr(upstream, f.name, None)!r}"
                ) from None
        return cls(**values)
