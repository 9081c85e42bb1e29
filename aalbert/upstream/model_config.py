"""The encoder's config and the paper-size configs, torch-free.

``TransformerConfig`` says what ``TransformerEncoder`` (aalbert.upstream.model) builds; the paper
sizes (hidden 768, 12 heads, FFN 3072, 80-dim log-mel input) are the configs of the factories'
random models (aalbert.upstream.factory). Nothing here imports torch: ``aalbert hub list`` reads
these configs and counts their parameters (aalbert.upstream.param_count) without building a model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# the names of components.ACTIVATIONS (tests/upstream/test_model.py checks they agree)
ACTIVATION_NAMES = ("gelu", "relu", "swish")


@dataclass
class TransformerConfig:
    # s3prl's checkpoints call ``stacking`` ``downsample_rate`` (upstream/checkpoint.py maps it); our
    # own older files did too (aalbert.previous_release reads them)

    input_dim: int = 80
    hidden_size: int = 768
    num_hidden_layers: int = 3
    num_hidden_groups: int | None = None  # None or num_hidden_layers = Mockingjay; 1 = AALBERT
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    stacking: int = 1  # input frames concatenated into one encoder frame: 1 or 3 (s3prl: downsample_rate)

    def __post_init__(self) -> None:
        for name in (
            "input_dim",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "stacking",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be a multiple of num_attention_heads "
                f"({self.num_attention_heads})"
            )
        groups = self.groups
        if not 1 <= groups <= self.num_hidden_layers:
            raise ValueError(
                f"num_hidden_groups must be between 1 and num_hidden_layers "
                f"({self.num_hidden_layers}), got {self.num_hidden_groups}"
            )
        if self.hidden_act not in ACTIVATION_NAMES:
            raise ValueError(f"hidden_act must be one of {', '.join(ACTIVATION_NAMES)}, got {self.hidden_act!r}")

    @property
    def groups(self) -> int:
        return self.num_hidden_layers if self.num_hidden_groups is None else self.num_hidden_groups

    def group_of(self, layer: int) -> int:
        return layer * self.groups // self.num_hidden_layers


STACKINGS = (1, 3)
# the input of the factories' default FeatureConfig(): 80-dim log-mel, no deltas
# (tests/upstream/test_param_count.py checks paper_encoder_config against the built models)
PAPER_INPUT_DIM = 80


def paper_config(
    name: str, layers: int, groups: int, stacking: int, input_dim: int, overrides: dict
) -> TransformerConfig:
    """The encoder config of a paper-size model: what ``aalbert hub list`` counts without building it."""
    if stacking not in STACKINGS:
        raise ValueError(f"{name}: frame stacking must be one of {STACKINGS}, got {stacking}")
    fields = {f.name for f in dataclasses.fields(TransformerConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ValueError(
            f"{name}: unknown option(s) {', '.join(unknown)}; TransformerConfig fields: {', '.join(sorted(fields))}"
        )
    return TransformerConfig(
        **{
            "input_dim": input_dim,
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
    return paper_config(name, count, groups, 1, PAPER_INPUT_DIM, {})
