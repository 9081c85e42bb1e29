"""Paper-size Mockingjay / Audio ALBERT upstreams (randomly initialised) and a generic builder.

Sizes follow the papers and s3prl's released models: hidden 768, 12 heads, FFN 3072, 80-dim
log-mel input. Mockingjay has one weight group per layer, Audio ALBERT one group for all.
s3prl 0.4.18's mockingjay / audio_albert upstreams cannot stack frames, so every released model
they load uses stacking 1: that is the default here too (``stacking=3`` gives the original
Mockingjay paper's 3x downsampled variant).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aalbert.config import refuse_renamed_keys
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.model import TransformerConfig, Upstream

STACKINGS = (1, 3)


def build_upstream(
    encoder_config: TransformerConfig, feature_config: FeatureConfig | None = None, name: str = "upstream"
) -> Upstream:
    """An eval-mode Upstream from explicit configs (random weights)."""
    return Upstream(feature_config if feature_config is not None else FeatureConfig(), encoder_config, name).eval()


def _paper_upstream(
    name: str,
    layers: int,
    groups: int,
    target: str,
    stacking: int,
    feature_config: FeatureConfig | None,
    overrides: dict,
) -> Upstream:
    features = feature_config if feature_config is not None else FeatureConfig(target=FeatureSpec(target))
    return build_upstream(paper_config(name, layers, groups, stacking, features, overrides), features, name)


def paper_config(
    name: str, layers: int, groups: int, stacking: int, features: FeatureConfig, overrides: dict
) -> TransformerConfig:
    """The encoder config of a paper-size model: what ``aalbert hub list`` counts without building it."""
    if stacking not in STACKINGS:
        raise ValueError(f"{name}: frame stacking must be one of {STACKINGS}, got {stacking}")
    base = features.n_mels if features.input.feat_type == "mel" else features.n_freq
    refuse_renamed_keys(TransformerConfig, overrides, where=name)
    fields = {f.name for f in dataclasses.fields(TransformerConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"{name}: unknown option(s) {', '.join(unknown)}; TransformerConfig fields: {', '.join(sorted(fields))}"
        )
    return TransformerConfig(
        **{
            "input_dim": base * (1 + features.input.delta),
            "hidden_size": 768,
            "num_hidden_layers": layers,
            "num_hidden_groups": groups,
            "num_attention_heads": 12,
            "intermediate_size": 3072,
            "stacking": stacking,
            **overrides,
        }
    )


def paper_encoder_config(name: str) -> TransformerConfig:
    """The encoder config the factory ``name`` (``mockingjay_3l`` .. ``aalbert_12l``) builds by default."""
    family, layers = name.rsplit("_", 1)
    count = int(layers.rstrip("l"))
    groups = count if family == "mockingjay" else 1
    return paper_config(name, count, groups, 1, FeatureConfig(), {})


def _mockingjay(layers: int):
    def factory(stacking: int = 1, feature_config: FeatureConfig | None = None, **overrides: Any) -> Upstream:
        return _paper_upstream(f"mockingjay_{layers}l", layers, layers, "linear", stacking, feature_config, overrides)

    factory.__name__ = f"mockingjay_{layers}l"
    factory.__doc__ = (
        f"Mockingjay, {layers} unshared layers, hidden 768 (random weights, nothing downloaded). "
        "80-dim log-mel input, linear-spectrogram target; ``stacking`` 1 (default) or 3."
    )
    return factory


def _aalbert(layers: int):
    def factory(stacking: int = 1, feature_config: FeatureConfig | None = None, **overrides: Any) -> Upstream:
        return _paper_upstream(f"aalbert_{layers}l", layers, 1, "mel", stacking, feature_config, overrides)

    factory.__name__ = f"aalbert_{layers}l"
    factory.__doc__ = (
        f"Audio ALBERT, {layers} layers sharing one weight group, hidden 768 (random weights, "
        "nothing downloaded). 80-dim log-mel input and target; ``stacking`` 1 (default) or 3."
    )
    return factory


mockingjay_3l = _mockingjay(3)
mockingjay_6l = _mockingjay(6)
mockingjay_12l = _mockingjay(12)
aalbert_3l = _aalbert(3)
aalbert_6l = _aalbert(6)
aalbert_12l = _aalbert(12)
