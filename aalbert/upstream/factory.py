"""Paper-size Mockingjay / Audio ALBERT upstreams (randomly initialised) and a generic builder.

Sizes follow the papers and s3prl's released models: hidden 768, 12 heads, FFN 3072, 80-dim
log-mel input. Mockingjay has one weight group per layer, Audio ALBERT one group for all.
s3prl 0.4.18's mockingjay / audio_albert upstreams cannot stack frames, so every released model
they load uses stacking 1: that is the default here too (``stacking=3`` gives the original
Mockingjay paper's 3x downsampled variant). The configs they build, and the default ones
``aalbert hub list`` counts, come from the torch-free ``model_config.paper_config``.
"""

from __future__ import annotations

from typing import Any

from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.model import Upstream
from aalbert.upstream.model_config import TransformerConfig, paper_config


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
    input_dim = (features.n_mels if features.input.feat_type == "mel" else features.n_freq) * (1 + features.input.delta)
    return build_upstream(paper_config(name, layers, groups, stacking, input_dim, overrides), features, name)


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
