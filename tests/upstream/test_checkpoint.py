"""Tests for s3prl-format checkpoint load/save (no s3prl needed: see test_s3prl_parity.py)."""

from __future__ import annotations

import argparse

import pytest
import torch

from aalbert.checkpoint_file import SkippedObject, SkippedPickleWarning, load_checkpoint_file
from aalbert.upstream.checkpoint import (
    CheckpointError,
    configs_from_checkpoint,
    head_from_checkpoint,
    upstream_from_checkpoint,
)
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec


class NotAWeight:
    """A custom object: weights-only unpickling must refuse it."""

    def __init__(self):
        self.value = 3


def assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


def test_round_trip_keeps_weights_configs_and_extras(make_s3prl_checkpoint, tmp_path):
    optim = {"state": {0: {"exp_avg": torch.ones(3)}}, "param_groups": [{"lr": 1e-4, "params": [0]}]}
    path = make_s3prl_checkpoint(
        step=1234, num_hidden_layers=2, extra={"Optimizer": optim, "rng": torch.get_rng_state()}
    )
    ckpt = load_checkpoint_file(path)
    assert ckpt["Step"] == 1234
    assert isinstance(ckpt["Args"], argparse.Namespace)
    assert ckpt["Optimizer"]["param_groups"][0]["lr"] == 1e-4
    section = ckpt["Upstream_Config"]["transformer"]
    assert section["share_layer"] is False and section["num_hidden_layers"] == 2
    assert "encoder.layer.1.attention.self.query.weight" in ckpt["Transformer"]
    model = upstream_from_checkpoint(path)
    assert model.name == "mockingjay" and not model.training
    assert model.encoder_config.groups == 2 and model.hidden_size == 64
    assert not list(tmp_path.glob(".*.tmp"))  # atomic write leaves no temp file


def test_resave_is_identical(make_s3prl_checkpoint, tmp_path):
    from aalbert.upstream.checkpoint import save_s3prl_checkpoint

    path = make_s3prl_checkpoint(num_hidden_groups=1)
    model = upstream_from_checkpoint(path)
    ckpt = load_checkpoint_file(path)
    head = head_from_checkpoint(ckpt, model.encoder_config, path)
    again = save_s3prl_checkpoint(tmp_path / "again.pt", model.encoder, head, model.feature_config, step=0)
    reloaded = load_checkpoint_file(again)
    assert_same_state(ckpt["Transformer"], reloaded["Transformer"])
    assert_same_state(ckpt["SpecHead"], reloaded["SpecHead"])
    assert reloaded["Upstream_Config"]["audio"] == ckpt["Upstream_Config"]["audio"]


def test_albert_checkpoint_writes_every_layer_and_loads_one_group(make_s3prl_checkpoint):
    path = make_s3prl_checkpoint(num_hidden_layers=4, num_hidden_groups=1)
    ckpt = load_checkpoint_file(path)
    assert ckpt["Upstream_Config"]["transformer"]["share_layer"] is True
    state = ckpt["Transformer"]
    assert torch.equal(state["encoder.layer.0.output.dense.weight"], state["encoder.layer.3.output.dense.weight"])
    model = upstream_from_checkpoint(path)
    assert model.name == "aalbert" and len(model.encoder.groups) == 1 and model.num_layers == 4


def test_partial_sharing_round_trip(make_s3prl_checkpoint, tmp_path):
    from aalbert.upstream.checkpoint import save_s3prl_checkpoint
    from aalbert.upstream.model import TransformerEncoder

    path = make_s3prl_checkpoint(num_hidden_layers=4, num_hidden_groups=2)
    section = load_checkpoint_file(path)["Upstream_Config"]["transformer"]
    assert section["share_layer"] is False and section["num_hidden_groups"] == 2
    model = upstream_from_checkpoint(path)
    assert model.encoder.layer_groups == [0, 0, 1, 1]

    # the weights, not only the map: an encoder in which no two groups hold equal values (a fresh
    # one starts every LayerNorm at 1 and 0 in both), saved and loaded back
    torch.manual_seed(3)
    original = TransformerEncoder(model.encoder_config)
    with torch.no_grad():
        for param in original.parameters():
            param.add_(torch.randn_like(param))
    saved = save_s3prl_checkpoint(tmp_path / "two_groups.pt", original, None, model.feature_config, step=0)
    state = load_checkpoint_file(saved)["Transformer"]
    layer0 = [k for k in state if k.startswith("encoder.layer.0.")]
    assert len(layer0) == 16  # Q, K, V, attention out, its norm, FFN in, out, its norm: weight and bias
    for key in layer0:
        at = {i: state[key.replace("layer.0.", f"layer.{i}.")] for i in range(4)}
        assert torch.equal(at[0], at[1]) and torch.equal(at[2], at[3]), key  # s3prl writes each layer of a group
        assert (at[0] != at[2]).all(), key  # ... and groups apart
    loaded = upstream_from_checkpoint(saved).encoder
    assert_same_state(original.state_dict(), loaded.state_dict())
    layers = loaded.layers
    assert layers[0] is layers[1] and layers[2] is layers[3] and layers[0] is not layers[2]


def test_stacking_and_head_round_trip(make_s3prl_checkpoint):
    path = make_s3prl_checkpoint(stacking=3)
    ckpt = load_checkpoint_file(path)
    encoder_config, features = configs_from_checkpoint(ckpt, path)
    assert encoder_config.stacking == 3
    assert ckpt["Upstream_Config"]["transformer"]["downsample_rate"] == 3  # s3prl's name for it
    head = head_from_checkpoint(ckpt, encoder_config, path)
    assert head.output.out_features == 201 * 3
    assert upstream_from_checkpoint(path).downsample_rate == 480


def test_legacy_gamma_beta_and_config_section(make_s3prl_checkpoint, tmp_path):
    path = make_s3prl_checkpoint()
    ckpt = load_checkpoint_file(path)
    rename = {"weight": "gamma", "bias": "beta"}
    legacy = {}
    for key, value in ckpt["Transformer"].items():
        if "LayerNorm" in key:
            stem, leaf = key.rsplit(".", 1)
            key = f"{stem}.{rename[leaf]}"
        legacy[key] = value
    ckpt["Transformer"] = legacy
    ckpt["Config"] = ckpt.pop("Upstream_Config")  # legacy files keep the upstream config here
    torch.save(ckpt, tmp_path / "legacy.pt")
    old = upstream_from_checkpoint(tmp_path / "legacy.pt")
    new = upstream_from_checkpoint(path)
    assert_same_state(old.encoder.state_dict(), new.encoder.state_dict())


def mutate(path, tmp_path, fn):
    ckpt = load_checkpoint_file(path)
    fn(ckpt)
    out = tmp_path / "bad.pt"
    torch.save(ckpt, out)
    return out


def test_missing_key_names_file_and_key(make_s3prl_checkpoint, tmp_path):
    bad = mutate(
        make_s3prl_checkpoint(), tmp_path, lambda c: c["Transformer"].pop("encoder.layer.1.intermediate.dense.bias")
    )
    with pytest.raises(CheckpointError, match=r"bad\.pt.*encoder\.layer\.1\.intermediate\.dense\.bias"):
        upstream_from_checkpoint(bad)


def test_unexpected_key_names_it(make_s3prl_checkpoint, tmp_path):
    bad = mutate(
        make_s3prl_checkpoint(), tmp_path, lambda c: c["Transformer"].update({"pooler.dense.weight": torch.ones(1)})
    )
    with pytest.raises(CheckpointError, match=r"unexpected keys.*pooler\.dense\.weight"):
        upstream_from_checkpoint(bad)


def test_extra_layer_is_unexpected(make_s3prl_checkpoint, tmp_path):
    def drop_layer_count(c):
        c["Upstream_Config"]["transformer"]["num_hidden_layers"] = 2
        c["Upstream_Config"]["transformer"]["num_hidden_groups"] = 2

    bad = mutate(make_s3prl_checkpoint(), tmp_path, drop_layer_count)
    with pytest.raises(CheckpointError, match=r"unexpected keys.*encoder\.layer\.2\."):
        upstream_from_checkpoint(bad)


def test_shape_mismatch_names_the_key(make_s3prl_checkpoint, tmp_path):
    bad = mutate(
        make_s3prl_checkpoint(),
        tmp_path,
        lambda c: c["Transformer"].update({"encoder.layer.0.output.dense.weight": torch.zeros(64, 100)}),
    )
    with pytest.raises(CheckpointError, match=r"shape mismatch.*groups\.0\.ffn_out\.weight"):
        upstream_from_checkpoint(bad)


def test_shared_layers_must_hold_the_same_weights(make_s3prl_checkpoint, tmp_path):
    def diverge(c):
        state = c["Transformer"]
        state["encoder.layer.2.output.dense.weight"] = state["encoder.layer.2.output.dense.weight"] + 1

    bad = mutate(make_s3prl_checkpoint(num_hidden_groups=1), tmp_path, diverge)
    with pytest.raises(CheckpointError, match=r"share weight group 0.*encoder\.layer\.2\.output\.dense\.weight"):
        upstream_from_checkpoint(bad)


def test_input_dim_must_match_audio_config(make_s3prl_checkpoint, tmp_path):
    def delta(c):
        c["Upstream_Config"]["audio"]["input"]["delta"] = 1

    bad = mutate(make_s3prl_checkpoint(), tmp_path, delta)
    with pytest.raises(CheckpointError, match="input layer takes 80 features"):
        upstream_from_checkpoint(bad)


def test_delta_features_checkpoint(make_s3prl_checkpoint):
    config = FeatureConfig(input=FeatureSpec("mel", delta=2), target=FeatureSpec("mel"))
    model = upstream_from_checkpoint(make_s3prl_checkpoint(feature_config=config))
    assert model.encoder_config.input_dim == 240


def test_foreign_objects_are_skipped_unless_opted_in(make_s3prl_checkpoint, tmp_path):
    bad = mutate(make_s3prl_checkpoint(), tmp_path, lambda c: c.update({"scheduler": NotAWeight()}))
    with pytest.warns(SkippedPickleWarning, match=r"bad\.pt.*test_checkpoint\.NotAWeight"):
        skipped = load_checkpoint_file(bad)["scheduler"]
    assert isinstance(skipped, SkippedObject) and not isinstance(skipped, NotAWeight)
    with pytest.warns(SkippedPickleWarning):
        assert upstream_from_checkpoint(bad).num_layers == 3
    assert load_checkpoint_file(bad, allow_unsafe_pickle=True)["scheduler"].value == 3
    assert upstream_from_checkpoint(bad, allow_unsafe_pickle=True).num_layers == 3


def test_unreadable_files(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint_file(tmp_path / "nope.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint_file(tmp_path / "junk.pt")
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="expected a dict"):
        load_checkpoint_file(tmp_path / "list.pt")
    torch.save({"Step": 1}, tmp_path / "empty.pt")
    with pytest.raises(CheckpointError, match="no upstream config"):
        upstream_from_checkpoint(tmp_path / "empty.pt")


def test_pre_layer_norm_is_refused(make_s3prl_checkpoint, tmp_path):
    bad = mutate(
        make_s3prl_checkpoint(),
        tmp_path,
        lambda c: c["Upstream_Config"]["transformer"].update({"pre_layer_norm": True}),
    )
    with pytest.raises(CheckpointError, match="pre_layer_norm"):
        upstream_from_checkpoint(bad)


def test_extra_cannot_overwrite_standard_entries(make_s3prl_checkpoint):
    with pytest.raises(ValueError, match="Transformer"):
        make_s3prl_checkpoint(extra={"Transformer": {}})
