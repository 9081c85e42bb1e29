"""s3prl's Mockingjay state-dict names <-> ours, both ways.

s3prl names each layer's weights separately (``encoder.layer.{i}.attention.self.query`` ...) and
writes every layer even when they are shared; ours fuse Q/K/V and keep one module per weight
group. Old s3prl checkpoints name LayerNorm parameters gamma/beta.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from aalbert.checkpoint_file import CheckpointError
from aalbert.upstream.model import SpecPredictionHead, TransformerEncoder
from aalbert.upstream.model_config import TransformerConfig

# our module name -> s3prl's, within one layer (QKV handled separately: fused here, split there)
_LAYER_KEYS = {
    "attention.out": "attention.output.dense",
    "attention_norm": "attention.output.LayerNorm",
    "ffn_in": "intermediate.dense",
    "ffn_out": "output.dense",
    "ffn_norm": "output.LayerNorm",
}
_INPUT_KEYS = {
    "input.spec_transform": "input_representations.spec_transform",
    "input.layer_norm": "input_representations.LayerNorm",
}
_HEAD_KEYS = {"dense": "dense", "layer_norm": "LayerNorm", "output": "output"}


def _rename_legacy(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Old checkpoints name LayerNorm parameters gamma/beta."""
    out = {}
    for key, value in state.items():
        parts = key.split(".")
        if parts[-1] == "gamma":
            parts[-1] = "weight"
        elif parts[-1] == "beta":
            parts[-1] = "bias"
        out[".".join(parts)] = value
    return out


def import_encoder_state(
    state: dict[str, Tensor], config: TransformerConfig, path: str | Path = "<checkpoint>"
) -> dict[str, Tensor]:
    """s3prl ``Transformer`` state dict -> our TransformerEncoder state dict.

    A weight group is read from its first layer present in the file; the group's other layers,
    if present, must hold the same weights (s3prl writes every layer of a shared model).
    Unused keys are an error naming them.
    """
    state = _rename_legacy(state)
    used: set[str] = set()
    ours: dict[str, Tensor] = {}

    def take(src: str, dst: str) -> None:
        for suffix in ("weight", "bias"):
            key = f"{src}.{suffix}"
            if key not in state:
                raise CheckpointError(path, f"missing key {key!r} in 'Transformer'")
            ours[f"{dst}.{suffix}"] = state[key]
            used.add(key)

    for dst, src in _INPUT_KEYS.items():
        take(src, dst)
    for group in range(config.groups):
        layers = [i for i in range(config.num_hidden_layers) if config.group_of(i) == group]
        present = [i for i in layers if f"encoder.layer.{i}.attention.self.query.weight" in state]
        if not present:
            raise CheckpointError(
                path,
                f"missing keys 'encoder.layer.{layers[0]}.*' in 'Transformer' "
                f"(no layer of weight group {group} found: layers {layers})",
            )
        first = present[0]
        for dst, src in _LAYER_KEYS.items():
            take(f"encoder.layer.{first}.{src}", f"groups.{group}.{dst}")
        for suffix in ("weight", "bias"):
            parts = []
            for name in ("query", "key", "value"):
                key = f"encoder.layer.{first}.attention.self.{name}.{suffix}"
                if key not in state:
                    raise CheckpointError(path, f"missing key {key!r} in 'Transformer'")
                parts.append(state[key])
                used.add(key)
            ours[f"groups.{group}.attention.qkv.{suffix}"] = torch.cat(parts, dim=0)
        for other in present[1:]:
            prefix = f"encoder.layer.{other}."
            for key in [k for k in state if k.startswith(prefix)]:
                twin = f"encoder.layer.{first}." + key[len(prefix) :]
                if twin not in state or not torch.equal(state[key], state[twin]):
                    raise CheckpointError(
                        path,
                        f"layers {first} and {other} share weight group {group} "
                        f"(num_hidden_groups={config.groups}) but {key!r} differs",
                    )
                used.add(key)
    unused = sorted(set(state) - used)
    if unused:
        raise CheckpointError(
            path,
            f"unexpected keys in 'Transformer' for a {config.num_hidden_layers}-layer, "
            f"{config.groups}-group encoder: {', '.join(unused[:10])}"
            + (f" (+{len(unused) - 10} more)" if len(unused) > 10 else ""),
        )
    return ours


def export_encoder_state(encoder: TransformerEncoder) -> dict[str, Tensor]:
    """Our encoder -> s3prl's ``Transformer`` state dict (every layer written, shared ones reused)."""
    ours = {k: v.detach().cpu() for k, v in encoder.state_dict().items()}
    out = {}
    for dst, src in _INPUT_KEYS.items():
        for suffix in ("weight", "bias"):
            out[f"{src}.{suffix}"] = ours[f"{dst}.{suffix}"]
    # split each group's fused QKV once, so shared layers reference the same tensors (saved once)
    split = {}
    for group in range(encoder.config.groups):
        for suffix in ("weight", "bias"):
            split[group, suffix] = ours[f"groups.{group}.attention.qkv.{suffix}"].chunk(3, dim=0)
    for i, group in enumerate(encoder.layer_groups):
        for suffix in ("weight", "bias"):
            for name, part in zip(("query", "key", "value"), split[group, suffix]):
                out[f"encoder.layer.{i}.attention.self.{name}.{suffix}"] = part
            for dst, src in _LAYER_KEYS.items():
                out[f"encoder.layer.{i}.{src}.{suffix}"] = ours[f"groups.{group}.{dst}.{suffix}"]
    return out


def import_head_state(state: dict[str, Tensor], path: str | Path = "<checkpoint>") -> dict[str, Tensor]:
    state = _rename_legacy(state)
    ours = {}
    for dst, src in _HEAD_KEYS.items():
        for suffix in ("weight", "bias"):
            key = f"{src}.{suffix}"
            if key not in state:
                raise CheckpointError(path, f"missing key {key!r} in 'SpecHead'")
            ours[f"{dst}.{suffix}"] = state[key]
    unused = sorted(set(state) - {f"{s}.{x}" for s in _HEAD_KEYS.values() for x in ("weight", "bias")})
    if unused:
        raise CheckpointError(path, f"unexpected keys in 'SpecHead': {', '.join(unused)}")
    return ours


def export_head_state(head: SpecPredictionHead) -> dict[str, Tensor]:
    ours = {k: v.detach().cpu() for k, v in head.state_dict().items()}
    return {
        f"{src}.{suffix}": ours[f"{dst}.{suffix}"] for dst, src in _HEAD_KEYS.items() for suffix in ("weight", "bias")
    }
