"""Parameter counts from configs, in closed form: what ``aalbert hub list`` prints without
building a model (a paper-size one takes seconds and hundreds of MB). The formulas follow the
modules of components.py one for one; tests/upstream/test_param_count.py checks them against
``sum(p.numel())`` of built models. Torch-free, as the configs (model_config.py) are."""

from __future__ import annotations

from aalbert.upstream.model_config import TransformerConfig


def _linear(inputs: int, outputs: int) -> int:
    return inputs * outputs + outputs  # weight and bias


def _layer_norm(size: int) -> int:
    return 2 * size


def encoder_params(config: TransformerConfig) -> int:
    """Parameters of ``TransformerEncoder(config)``: the input representation, and one Transformer
    layer per weight group (shared layers count once)."""
    h, i = config.hidden_size, config.intermediate_size
    representation = _linear(config.input_dim * config.stacking, h) + _layer_norm(h)
    attention = _linear(h, 3 * h) + _linear(h, h) + _layer_norm(h)
    feed_forward = _linear(h, i) + _linear(i, h) + _layer_norm(h)
    return representation + config.groups * (attention + feed_forward)


def spec_head_params(config: TransformerConfig, output_dim: int) -> int:
    """Parameters of the pretraining head ``build_spec_head(config, output_dim)``."""
    h = config.hidden_size
    return _linear(h, h) + _layer_norm(h) + _linear(h, output_dim * config.stacking)
