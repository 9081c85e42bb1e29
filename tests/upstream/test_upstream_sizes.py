"""UpstreamSizes: the sizes an upstream states, read as ints with an error naming the upstream."""

import numpy as np
import pytest
from torch import nn

from aalbert.errors import BadInputError
from aalbert.testing.upstream import TinyUpstream
from aalbert.upstream.sizes import UpstreamSizes


def test_sizes_of_an_upstream_and_its_hidden_states():
    sizes = UpstreamSizes.of(TinyUpstream(hidden_size=16, num_layers=3, stacking=2))
    assert sizes == UpstreamSizes(num_layers=3, hidden_size=16, downsample_rate=320)
    assert sizes.num_hidden_states == 4


def test_numpy_integers_count_as_integers():
    upstream = TinyUpstream()
    upstream.hidden_size = np.int64(32)
    sizes = UpstreamSizes.of(upstream)
    assert sizes.hidden_size == 32 and type(sizes.hidden_size) is int


@pytest.mark.parametrize("attr, value", [("downsample_rate", None), ("hidden_size", 32.0)])
def test_a_missing_or_non_integer_size_names_the_upstream(attr, value):
    upstream = TinyUpstream()
    if value is None:
        delattr(upstream, attr)
    else:
        setattr(upstream, attr, value)
    with pytest.raises(BadInputError, match=rf"upstream tiny: {attr} must be an integer.*got {value!r}"):
        UpstreamSizes.of(upstream)


def test_a_module_without_a_name_is_named_by_its_class():
    with pytest.raises(BadInputError, match="upstream Linear: num_layers"):
        UpstreamSizes.of(nn.Linear(2, 2))
