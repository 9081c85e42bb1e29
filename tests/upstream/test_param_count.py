"""Parameter counts in closed form equal those of built models (what `aalbert hub list` prints)."""

from __future__ import annotations

import pytest

from aalbert.upstream import factory, pretrained_table
from aalbert.upstream.model import TransformerEncoder, build_spec_head
from aalbert.upstream.model_config import TransformerConfig, paper_encoder_config
from aalbert.upstream.param_count import encoder_params, spec_head_params


def numel(module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize(
    "sizes",
    [
        dict(num_hidden_layers=3, num_hidden_groups=None),  # Mockingjay: no sharing
        dict(num_hidden_layers=3, num_hidden_groups=1),  # AALBERT: one group
        dict(num_hidden_layers=4, num_hidden_groups=2),  # partial sharing
        dict(num_hidden_layers=2, stacking=3, input_dim=160),  # stacked frames, deltas
        dict(num_hidden_layers=1, hidden_size=48, num_attention_heads=3, intermediate_size=20),
    ],
)
def test_closed_form_counts_equal_built_models(sizes):
    config = TransformerConfig(**{"hidden_size": 32, "num_attention_heads": 4, "intermediate_size": 64, **sizes})
    assert encoder_params(config) == numel(TransformerEncoder(config))
    for output_dim in (80, 201):
        assert spec_head_params(config, output_dim) == numel(build_spec_head(config, output_dim))


def test_paper_configs_are_the_models_the_factories_build_and_the_published_sizes():
    built = factory.aalbert_3l()  # the smallest paper-size model: one shared group
    assert paper_encoder_config("aalbert_3l") == built.encoder_config
    assert paper_encoder_config("mockingjay_3l") == factory.mockingjay_3l().encoder_config
    assert encoder_params(built.encoder_config) == numel(built)
    for name in ("mockingjay_3l", "mockingjay_12l", "aalbert_12l"):
        config = paper_encoder_config(name)
        assert config.num_hidden_layers == int(name.split("_")[1][:-1])
        assert config.groups == (1 if name.startswith("aalbert") else config.num_hidden_layers)
    for model in pretrained_table.pretrained_names().values():  # the published models' stated encoder sizes
        assert model.params == encoder_params(paper_encoder_config(f"{model.family}_{model.layers}l"))
