"""s3prl-format checkpoints for Mockingjay / Audio ALBERT, both ways.

The file is a ``torch.save``d dict: ``Step``, ``Args`` (argparse.Namespace), ``Config`` (runner
config), ``Upstream_Config`` {transformer, task, audio}, ``Transformer`` and ``SpecHead`` state
dicts, and optional optimizer / scheduler / RNG entries. Legacy files keep the upstream config
under ``Config``. Files are read through aalbert.checkpoint_file (weights-only; objects of foreign
classes become inert placeholders); ``allow_unsafe_pickle=True`` is the explicit opt-in to plain
``torch.load``. The state-dict names are translated in aalbert.upstream.s3prl_state.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from aalbert.atomic import torch_save_atomic
from aalbert.checkpoint_file import CheckpointError, load_checkpoint_file
from aalbert.config import ConfigError
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.model import SpecPredictionHead, TransformerEncoder, Upstream, build_spec_head
from aalbert.upstream.model_config import TransformerConfig
from aalbert.upstream.s3prl_limits import S3PRLCannotLoadWarning, s3prl_load_message, s3prl_load_problems
from aalbert.upstream.s3prl_state import (  # noqa: F401 - re-exported: importers use them from here
    export_encoder_state,
    export_head_state,
    import_encoder_state,
    import_head_state,
)

DEFAULT_TASK = {
    "loss": "L1",
    "sequence_length": 1500,
    "position_encoding_size": 768,
    "mask_proportion": 0.15,
    "mask_consecutive_min": 7,
    "mask_consecutive_max": 7,
    "mask_allow_overlap": True,
    "mask_bucket_ratio": 1.5,
    "mask_frequency": 0,
    "noise_proportion": 0.0,
}

# --------------------------------------------------------------------------- reading the file


def upstream_config_of(ckpt: dict, path: str | Path = "<checkpoint>") -> dict:
    """The {transformer, task, audio} section: ``Config`` in legacy files, else ``Upstream_Config``.

    Looked up in s3prl's order: legacy files keep it under ``Config`` (and the runner config
    under ``Runner``); newer ones keep the runner config under ``Config``.
    """
    for key in ("Config", "Upstream_Config"):
        section = ckpt.get(key)
        if isinstance(section, dict) and "transformer" in section:
            return section
    raise CheckpointError(
        path, "no upstream config: neither 'Upstream_Config' nor 'Config' has a 'transformer' section"
    )


def transformer_config_from_s3prl(
    section: dict, path: str | Path = "<checkpoint>", input_dim: int | None = None
) -> TransformerConfig:
    """Our config from s3prl's ``transformer`` section.

    ``input_dim``: the feature size when the checkpoint extracts features on the fly. s3prl then
    ignores ``transformer.input_dim`` (its recipes write -1, "irrelevant if on-the-fly
    extraction is used"), and so do we.
    """
    if not isinstance(section, dict):
        raise CheckpointError(path, f"the 'transformer' section must be a mapping, got {type(section).__name__}")
    if section.get("pre_layer_norm", False):
        raise CheckpointError(path, "pre_layer_norm=True (pre-LN Transformer) is not supported, only post-LN")
    try:
        layers = int(section["num_hidden_layers"])
        if "num_hidden_groups" in section and section["num_hidden_groups"] is not None:
            groups = int(section["num_hidden_groups"])
        else:
            groups = 1 if section.get("share_layer", False) else layers
        return TransformerConfig(
            input_dim=int(section.get("input_dim", 80)) if input_dim is None else input_dim,
            hidden_size=int(section["hidden_size"]),
            num_hidden_layers=layers,
            num_hidden_groups=groups,
            num_attention_heads=int(section["num_attention_heads"]),
            intermediate_size=int(section["intermediate_size"]),
            hidden_act=str(section["hidden_act"]),
            hidden_dropout_prob=float(section["hidden_dropout_prob"]),
            attention_probs_dropout_prob=float(section["attention_probs_dropout_prob"]),
            initializer_range=float(section["initializer_range"]),
            layer_norm_eps=float(section["layer_norm_eps"]),
            stacking=int(section.get("downsample_rate", 1)),  # s3prl's name for the frame stacking
        )
    except KeyError as err:
        raise CheckpointError(path, f"transformer config lacks the key {err.args[0]!r}") from err
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"bad transformer config: {err}") from err


def transformer_config_to_s3prl(config: TransformerConfig) -> dict:
    """s3prl's ``transformer`` section; ``num_hidden_groups`` is extra (s3prl ignores it)."""
    return {
        "input_dim": config.input_dim,
        "downsample_rate": config.stacking,  # s3prl's name for it
        "hidden_size": config.hidden_size,
        "num_hidden_layers": config.num_hidden_layers,
        "num_attention_heads": config.num_attention_heads,
        "intermediate_size": config.intermediate_size,
        "hidden_act": config.hidden_act,
        "hidden_dropout_prob": config.hidden_dropout_prob,
        "attention_probs_dropout_prob": config.attention_probs_dropout_prob,
        "initializer_range": config.initializer_range,
        "layer_norm_eps": config.layer_norm_eps,
        "share_layer": config.groups == 1 and config.num_hidden_layers > 1,
        "pre_layer_norm": False,
        "num_hidden_groups": config.groups,
    }


def _load_into(module: torch.nn.Module, state: dict[str, Tensor], what: str, path: str | Path) -> None:
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(path, f"{what} keys do not match the model: missing {missing}, unexpected {unexpected}")
    wrong = [
        f"{k} (file {tuple(state[k].shape)}, model {tuple(v.shape)})"
        for k, v in expected.items()
        if state[k].shape != v.shape
    ]
    if wrong:
        raise CheckpointError(path, f"{what} shape mismatch: {', '.join(wrong)}")
    module.load_state_dict(state)


# --------------------------------------------------------------------------- models from files


def configs_from_checkpoint(ckpt: dict, path: str | Path = "<checkpoint>") -> tuple[TransformerConfig, FeatureConfig]:
    section = upstream_config_of(ckpt, path)
    if "audio" not in section:
        raise CheckpointError(
            path,
            "no 'audio' section: only checkpoints with on-the-fly feature extraction are "
            "supported (s3prl's pre-extracted-feature checkpoints need their feature files)",
        )
    try:
        feature_config = FeatureConfig.from_s3prl(section["audio"])
    except (ValueError, ConfigError) as err:  # from_s3prl's own checks, and from_dict's
        raise CheckpointError(path, f"unsupported audio config: {err}") from err
    # s3prl sizes the input layer from the features, not from transformer.input_dim
    feat_dim = feature_config.output_dim
    encoder_config = transformer_config_from_s3prl(section["transformer"], path, input_dim=feat_dim)
    in_features = ckpt.get("Transformer", {}).get("input_representations.spec_transform.weight")
    if in_features is not None and in_features.shape[1] != feat_dim * encoder_config.stacking:
        raise CheckpointError(
            path,
            f"input layer takes {in_features.shape[1]} features but the audio config gives "
            f"{feat_dim} x stacking {encoder_config.stacking}",
        )
    return encoder_config, feature_config


def max_input_length_of(ckpt: dict, path: str | Path = "<checkpoint>") -> int:
    """s3prl's ``task.sequence_length``: longer inputs are forwarded in pieces (0 or absent: never)."""
    task = upstream_config_of(ckpt, path).get("task") or {}
    value = task.get("sequence_length", 0) if isinstance(task, dict) else 0
    try:
        value = int(value)
    except (TypeError, ValueError) as err:
        raise CheckpointError(path, f"task.sequence_length must be an integer, got {value!r}") from err
    return max(value, 0)


def encoder_from_checkpoint(
    ckpt: dict, encoder_config: TransformerConfig, path: str | Path = "<checkpoint>"
) -> TransformerEncoder:
    if "Transformer" not in ckpt:
        raise CheckpointError(path, "no 'Transformer' state dict")
    encoder = TransformerEncoder(encoder_config)
    _load_into(encoder, import_encoder_state(ckpt["Transformer"], encoder_config, path), "'Transformer'", path)
    return encoder


def head_from_checkpoint(
    ckpt: dict, encoder_config: TransformerConfig, path: str | Path = "<checkpoint>"
) -> SpecPredictionHead:
    if "SpecHead" not in ckpt:
        raise CheckpointError(path, "no 'SpecHead' state dict")
    state = import_head_state(ckpt["SpecHead"], path)
    out = state["output.weight"].shape[0]
    if out % encoder_config.stacking:
        raise CheckpointError(
            path, f"SpecHead output size {out} is not a multiple of stacking {encoder_config.stacking}"
        )
    head = build_spec_head(encoder_config, out // encoder_config.stacking)
    _load_into(head, state, "'SpecHead'", path)
    return head


def upstream_from_checkpoint(
    path: str | Path, allow_unsafe_pickle: bool = False, name: str | None = None, max_input_length: int | None = None
) -> Upstream:
    """An eval-mode Upstream with the checkpoint's features, encoder weights and weight sharing.

    ``max_input_length``: None forwards long inputs in pieces of the checkpoint's
    ``task.sequence_length`` frames as s3prl does; 0 forwards whole utterances; N uses N frames.
    """
    ckpt = load_checkpoint_file(path, allow_unsafe_pickle)
    encoder_config, feature_config = configs_from_checkpoint(ckpt, path)
    if name is None:
        name = "aalbert" if encoder_config.groups < encoder_config.num_hidden_layers else "mockingjay"
    if max_input_length is None:
        max_input_length = max_input_length_of(ckpt, path)
    encoder = encoder_from_checkpoint(ckpt, encoder_config, path)
    return Upstream(
        feature_config, encoder_config, name=name, encoder=encoder, max_input_length=max_input_length
    ).eval()


# --------------------------------------------------------------------------- writing


def save_s3prl_checkpoint(
    path: str | Path,
    encoder: TransformerEncoder,
    spec_head: SpecPredictionHead | None,
    feature_config: FeatureConfig,
    step: int,
    extra: dict[str, Any] | None = None,
    task: dict | None = None,
    runner_config: dict | None = None,
    args: argparse.Namespace | None = None,
) -> Path:
    """Write an s3prl-format checkpoint: ours loads any; s3prl's mockingjay / audio_albert upstream
    only what its design can build (stacking 1: aalbert.upstream.s3prl_limits). For the rest an
    ``S3PRLCannotLoadWarning`` says why, once per process (the message names no file).

    ``extra`` adds entries (optimizer, scheduler, RNG state ...); they must be weights-only
    loadable (tensors, numbers, strings, containers) or our own loader will refuse the file.
    The write is atomic: a temporary file in the same folder, then ``os.replace``.
    """
    path = Path(path)
    problems = s3prl_load_problems(encoder.config, feature_config)
    if problems:
        warnings.warn(s3prl_load_message(problems), S3PRLCannotLoadWarning, stacklevel=2)
    ckpt: dict[str, Any] = {
        "Step": int(step),
        "Args": args if args is not None else argparse.Namespace(upstream="aalbert", mode="pretrain"),
        "Config": dict(runner_config or {}),
        "Upstream_Config": {
            "transformer": transformer_config_to_s3prl(encoder.config),
            "task": {**DEFAULT_TASK, "position_encoding_size": encoder.config.hidden_size, **(task or {})},
            "audio": feature_config.to_s3prl(),
        },
        "Transformer": export_encoder_state(encoder),
    }
    if spec_head is not None:
        ckpt["SpecHead"] = export_head_state(spec_head)
    for key, value in (extra or {}).items():
        if key in ckpt:
            raise ValueError(f"extra checkpoint entry {key!r} would overwrite a standard entry")
        ckpt[key] = value
    torch_save_atomic(ckpt, path)
    return path
