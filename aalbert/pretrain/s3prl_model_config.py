"""s3prl's pretraining model config (``run_pretrain.py -g pretrain/<upstream>/config_model.yaml``: its
``transformer``, ``task`` and ``audio`` sections) read as a layer of our recipe (``model``, ``task``,
``audio``). A key with a counterpart here is set under our name; a value that would make another
model than the ones built here is a ConfigError naming the file, the key and why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aalbert.config import ConfigError, to_dict
from aalbert.config_layers import load_yaml
from aalbert.upstream.feature_config import FeatureConfig

# transformer.KEY -> model.KEY (the same names), and s3prl's name for the frame stacking
_SAME = (
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "initializer_range",
    "layer_norm_eps",
)
# keys read nowhere here, and why
_UNUSED = {
    "input_dim": "the input size comes from the audio features",
    "share_layer": "-u decides: audio_albert (aalbert) shares one layer, mockingjay none",
    "sequence_length": "a checkpoint's users cut long inputs into pieces of the length it records",
    "mask_allow_overlap": "spans are placed as aalbert.pretrain.masking says",
    "mask_bucket_ratio": "spans are placed as aalbert.pretrain.masking says",
}
# keys that must keep the one value offered here, and why
_FIXED: dict[str, tuple[Any, str]] = {
    "pre_layer_norm": (False, "only the post-LN Transformer is built"),
    "loss": ("L1", "the reconstruction loss is L1"),
    "mask_frequency": (0, "TERA's frequency masking is not offered"),
    "noise_proportion": (0, "TERA's noise alteration is not offered"),
}


def model_config_layer(path: str | Path) -> tuple[dict, bool | None]:
    """(the recipe layer ``path`` gives, its ``share_layer`` or None when it says nothing)."""
    data = load_yaml(path)
    unknown = sorted(set(data) - {"transformer", "task", "audio"})
    if unknown:
        raise ConfigError(f"-g {path}: {', '.join(unknown)}: not a section of s3prl's config_model.yaml")
    layer: dict[str, dict] = {}
    transformer, task = _section(data, "transformer", path), _section(data, "task", path)
    for key, value in transformer.items():
        if key in _SAME:
            layer.setdefault("model", {})[key] = value
        elif key == "downsample_rate":  # s3prl's name for the frame stacking
            layer.setdefault("model", {})["stacking"] = value
        else:
            _check(path, "transformer", key, value)
    for key, value in task.items():
        if key == "mask_proportion":
            layer.setdefault("task", {})[key] = value
        elif key in ("mask_consecutive_min", "mask_consecutive_max"):
            low, high = task.get("mask_consecutive_min", value), task.get("mask_consecutive_max", value)
            if low != high:
                raise ConfigError(
                    f"-g {path}: task.mask_consecutive_min {low} != mask_consecutive_max {high}: spans have one "
                    "length here (task.mask_consecutive)"
                )
            layer.setdefault("task", {})["mask_consecutive"] = value
        elif key == "position_encoding_size":
            size = transformer.get("hidden_size")
            if size is not None and value != size:
                raise ConfigError(f"-g {path}: task.position_encoding_size {value} must be transformer.hidden_size")
        else:
            _check(path, "task", key, value)
    if "audio" in data:
        try:  # s3prl's audio section is our FeatureConfig's (its from_s3prl reads s3prl's spellings)
            layer["audio"] = to_dict(FeatureConfig.from_s3prl(data["audio"]))
        except (TypeError, ValueError, ConfigError) as err:
            raise ConfigError(f"-g {path}: audio: {err}") from err
    share = transformer.get("share_layer")
    return layer, None if share is None else bool(share)


def _section(data: dict, name: str, path: str | Path) -> dict:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        raise ConfigError(f"-g {path}: {name} must be a mapping, got {type(section).__name__}")
    return section


def _check(path: str | Path, section: str, key: str, value: Any) -> None:
    """A key without a counterpart: unused (s3prl's own use of it is not pretraining's), the one value
    offered, or an error."""
    if key in _UNUSED:
        return
    if key in _FIXED:
        offered, why = _FIXED[key]
        if value != offered and not (isinstance(offered, bool) and str(value).lower() == str(offered).lower()):
            raise ConfigError(f"-g {path}: {section}.{key}: {value!r} is not offered ({why})")
        return
    raise ConfigError(f"-g {path}: {section}.{key} is not one of s3prl's config_model.yaml keys known here")
