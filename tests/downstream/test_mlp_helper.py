"""The mlp helper's signature: sizes positional, the rest keyword-only (a wrong guess fails loudly)."""

import pytest
import torch
from torch import nn

from aalbert.downstream.expert import MLPHeadConfig, mlp


def test_positional_hidden_settings_are_a_type_error():
    # the plausible guess mlp(input_dim, hidden_size, output_dim) once built 128 hidden layers 1 unit wide
    with pytest.raises(TypeError):
        mlp(32, 128, 1)  # type: ignore[misc]


def test_keyword_settings_build_the_layers_asked_for():
    net = mlp(32, 5, hidden_layers=2, hidden_size=16, dropout=0.1)
    linears = [m for m in net if isinstance(m, nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(32, 16), (16, 16), (16, 5)]
    assert net(torch.zeros(3, 32)).shape == (3, 5)


def test_head_config_passes_its_settings():
    net = MLPHeadConfig(hidden_layers=1, hidden_size=8).mlp(4, 3)
    assert [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)] == [(4, 8), (8, 3)]
