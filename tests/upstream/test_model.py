"""Tests for the encoder, the upstream contract and the paper-size factories."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from aalbert.upstream import factory
from aalbert.upstream.components import ACTIVATIONS, gelu, sinusoid_positions
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.model import TransformerEncoder, Upstream, build_spec_head, stack_frames
from aalbert.upstream.model_config import ACTIVATION_NAMES, TransformerConfig

SMALL = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=3)


def small_upstream(seed: int = 0, **kw) -> Upstream:
    torch.manual_seed(seed)
    return Upstream(FeatureConfig(), TransformerConfig(**{**SMALL, **kw}), name="small").eval()


# ---------------------------------------------------------------- sizes and sharing


@pytest.mark.parametrize(
    "layers,groups,stacking,expected",
    [
        (3, None, 1, 21_327_360),
        (6, None, 1, 42_590_976),
        (12, None, 1, 85_118_208),
        (3, None, 3, 21_450_240),
        (12, None, 3, 85_241_088),
        (3, 1, 1, 7_151_616),
        (12, 1, 1, 7_151_616),
        (12, 1, 3, 7_274_496),
    ],
)
def test_paper_sizes_match_s3prl_parameter_counts(layers, groups, stacking, expected):
    config = TransformerConfig(num_hidden_layers=layers, num_hidden_groups=groups, stacking=stacking)
    with torch.device("meta"):  # counts only: no memory, no init cost
        encoder = TransformerEncoder(config)
    assert sum(p.numel() for p in encoder.parameters()) == expected


def test_shared_layers_appear_once():
    encoder = TransformerEncoder(TransformerConfig(**{**SMALL, "num_hidden_layers": 6, "num_hidden_groups": 1}))
    assert len(encoder.groups) == 1
    assert all(layer is encoder.groups[0] for layer in encoder.layers)
    assert not any(k.startswith("groups.1.") for k in encoder.state_dict())
    unshared = TransformerEncoder(TransformerConfig(**{**SMALL, "num_hidden_layers": 6}))
    single = sum(p.numel() for p in encoder.parameters())
    layer = sum(p.numel() for p in unshared.groups[0].parameters())
    assert sum(p.numel() for p in unshared.parameters()) == single + 5 * layer


@pytest.mark.parametrize(
    "layers,groups,expected",
    [
        (6, 2, [0, 0, 0, 1, 1, 1]),
        (12, 3, [0] * 4 + [1] * 4 + [2] * 4),
        (4, 4, [0, 1, 2, 3]),
        (3, 1, [0, 0, 0]),
        (5, 2, [0, 0, 0, 1, 1]),
    ],
)
def test_partial_sharing_maps_layers_to_groups_like_albert(layers, groups, expected):
    encoder = TransformerEncoder(
        TransformerConfig(**{**SMALL, "num_hidden_layers": layers, "num_hidden_groups": groups})
    )
    assert encoder.layer_groups == expected
    assert len(encoder.groups) == groups


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="num_hidden_groups"):
        TransformerConfig(num_hidden_layers=3, num_hidden_groups=4)
    with pytest.raises(ValueError, match="multiple of num_attention_heads"):
        TransformerConfig(hidden_size=100, num_attention_heads=12)
    with pytest.raises(ValueError, match="hidden_act"):
        TransformerConfig(hidden_act="tanh")


def test_the_torch_free_config_accepts_the_activations_the_encoder_has():
    assert ACTIVATION_NAMES == tuple(ACTIVATIONS)
    for name in ACTIVATION_NAMES:
        TransformerEncoder(TransformerConfig(**{**SMALL, "hidden_act": name}))


def test_bert_init():
    encoder = TransformerEncoder(TransformerConfig(**{**SMALL, "initializer_range": 0.02}))
    w = encoder.groups[0].ffn_in.weight
    assert abs(w.std().item() - 0.02) < 0.003
    assert torch.all(encoder.groups[0].ffn_in.bias == 0)
    assert torch.all(encoder.groups[0].ffn_norm.weight == 1) and torch.all(encoder.groups[0].ffn_norm.bias == 0)


# ---------------------------------------------------------------- building blocks


def test_gelu_is_the_erf_form():
    x = torch.linspace(-6, 6, 1001, dtype=torch.float64)
    assert torch.allclose(gelu(x), x * 0.5 * (1.0 + torch.erf(x / math.sqrt(2.0))), atol=1e-12)


def test_sinusoid_positions_follow_the_reference_formula():
    length, dim = 50, 10
    pos = np.arange(length)[:, None] / np.power(10000, 2 * (np.arange(dim) // 2) / dim)[None, :]
    ref = pos.copy()
    ref[:, 0::2], ref[:, 1::2] = np.sin(pos[:, 0::2]), np.cos(pos[:, 1::2])
    assert np.allclose(sinusoid_positions(length, dim).numpy(), ref, atol=1e-6)


def test_stack_frames_drops_leftover_frames_and_floors_lengths():
    feats = torch.arange(2 * 7 * 2, dtype=torch.float32).view(2, 7, 2)
    stacked, lengths = stack_frames(feats, torch.tensor([7, 5]), 3)
    assert stacked.shape == (2, 2, 6)
    assert torch.equal(stacked[0, 1], feats[0, 3:6].reshape(-1))
    assert lengths.tolist() == [2, 1]
    same, same_len = stack_frames(feats, torch.tensor([7, 5]), 1)
    assert same is feats and same_len.tolist() == [7, 5]


def test_spec_head_output_size():
    config = TransformerConfig(**{**SMALL, "stacking": 3})
    head = build_spec_head(config, 201)
    assert head(torch.zeros(2, 5, 32)).shape == (2, 5, 603)


# ---------------------------------------------------------------- the upstream contract


def test_output_contract(speech_like):
    model = small_upstream()
    wavs = [speech_like(1.0), speech_like(0.73, seed=1)]
    with torch.inference_mode():
        out = model(wavs)
    assert set(out) == {"hidden_states", "last_hidden_state", "lengths"}
    assert len(out["hidden_states"]) == 4
    assert out["last_hidden_state"] is out["hidden_states"][-1]
    assert out["lengths"].tolist() == [101, 0.73 * 16000 // 160 + 1]
    for h in out["hidden_states"]:
        assert h.shape == (2, 101, 32)
        assert torch.all(h[1, 74:] == 0)  # padding is zero
    assert model.downsample_rate == 160 and model.get_downsample_rates("hidden_states") == 160
    assert model.hidden_size == 32 and model.num_layers == 3 and model.name == "small"


@pytest.mark.parametrize("stacking,groups", [(1, None), (3, None), (3, 1)])
def test_batch_equals_one_by_one(speech_like, stacking, groups):
    model = small_upstream(stacking=stacking, num_hidden_groups=groups)
    wavs = [speech_like(1.2), speech_like(0.55, seed=1), speech_like(0.9, seed=2)]
    with torch.inference_mode():
        batch = model(wavs)
        for i, wav in enumerate(wavs):
            alone = model([wav])
            n = int(alone["lengths"][0])
            assert int(batch["lengths"][i]) == n
            for hb, ha in zip(batch["hidden_states"], alone["hidden_states"]):
                assert ha.shape[1] == n
                torch.testing.assert_close(hb[i, :n], ha[0], atol=1e-5, rtol=0)


def test_stacking_downsample_rate_and_lengths(speech_like):
    model = small_upstream(stacking=3)
    assert model.downsample_rate == 480
    with torch.inference_mode():
        out = model([speech_like(10.0)])
    assert out["lengths"].tolist() == [333]  # 1001 frames // 3
    assert out["last_hidden_state"].shape == (1, 333, 32)


def test_long_input_over_1500_frames(speech_like):
    model = small_upstream(num_hidden_layers=1)
    with torch.inference_mode():
        out = model([speech_like(17.0)])
    assert out["lengths"].tolist() == [1701]
    assert torch.isfinite(out["last_hidden_state"]).all()


def test_attentions_only_when_asked_and_consistent(speech_like):
    model = small_upstream()
    wavs = [speech_like(0.8), speech_like(0.5, seed=3)]
    with torch.inference_mode():
        plain = model(wavs)
        out = model(wavs, output_attentions=True)
    assert len(out["attentions"]) == 3
    short = int(out["lengths"][1])
    for probs in out["attentions"]:
        assert probs.shape == (2, 4, 81, 81)
        torch.testing.assert_close(probs.sum(-1), torch.ones(2, 4, 81))
        assert torch.all(probs[1, :, :, short:] == 0)  # padded keys get no weight
        assert not torch.isnan(probs).any()
    for a, b in zip(plain["hidden_states"], out["hidden_states"]):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=0)


def test_training_mode_backpropagates(speech_like):
    model = small_upstream(num_hidden_groups=1).train()
    out = model([speech_like(0.5), speech_like(0.3, seed=1)])
    out["last_hidden_state"].sum().backward()
    assert model.encoder.groups[0].attention.qkv.weight.grad is not None
    assert torch.isfinite(model.encoder.groups[0].attention.qkv.weight.grad).all()


@pytest.mark.parametrize(
    "wavs,message",
    [
        ([], "empty list"),
        ([torch.zeros(0)], "empty"),
        ([torch.zeros(2, 16000)], "1-D"),
        ([torch.zeros(16000, dtype=torch.int16)], "floating-point"),
        ([torch.full((16000,), float("nan"))], "NaN"),
        ([torch.zeros(100)], "shorter than one frame"),
    ],
)
def test_bad_input_names_the_problem(wavs, message):
    with pytest.raises(ValueError, match=message):
        small_upstream()(wavs)


def test_wrong_sample_rate_is_an_error(speech_like):
    with pytest.raises(ValueError, match="8000 Hz"):
        small_upstream()([speech_like(0.5)], sample_rate=8000)


def test_feature_and_encoder_dims_must_agree():
    with pytest.raises(ValueError, match="input_dim"):
        Upstream(FeatureConfig(), TransformerConfig(**{**SMALL, "input_dim": 40}))


# ---------------------------------------------------------------- factories


def test_factories_build_paper_configs():

    model = factory.aalbert_3l(stacking=3)
    c = model.encoder_config
    assert (c.hidden_size, c.num_attention_heads, c.intermediate_size, c.num_hidden_layers, c.groups) == (
        768,
        12,
        3072,
        3,
        1,
    )
    assert model.downsample_rate == 480 and not model.training
    assert factory.mockingjay_3l().stacking == 1
    # the stacking factor has one name here; s3prl's ``downsample_rate`` lives only in its checkpoints
    for rate in (3, 480):
        with pytest.raises(
            ValueError, match=r"unknown option\(s\) downsample_rate; TransformerConfig fields: .*stacking"
        ):
            factory.mockingjay_3l(downsample_rate=rate)
    with pytest.raises(ValueError, match="stacking must be one of"):
        factory.aalbert_3l(stacking=2)
    with pytest.raises(ValueError, match="unknown option"):
        factory.aalbert_3l(hiden_size=10)
