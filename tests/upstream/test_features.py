"""Tests for aalbert.upstream.features: shapes, batching, padding, input checks, s3prl parity."""

from __future__ import annotations

import copy
import math
from types import SimpleNamespace

import pytest
import torch
from speech_waves import load_real_speech
from speech_waves import make_speech_like as speech_like

from aalbert.config import ConfigError
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.features import ExtractedFeatures, FeatureExtractor

SR = 16000


def s3prl_audio(input_spec: dict, target_spec: dict | None, target_level=-25) -> dict:
    audio = {
        "target_level": target_level,
        "win_ms": 25,
        "hop_ms": 10,
        "n_freq": 201,
        "n_mels": 80,
        "n_mfcc": 13,
        "input": {"channel": 0, **input_spec},
    }
    if target_spec is not None:
        audio["target"] = {"channel": 0, **target_spec}
    return audio


CONFIGS = {
    "mockingjay_default": FeatureConfig(),
    "mel_delta1_mel_target": FeatureConfig(input=FeatureSpec("mel", delta=1), target=FeatureSpec("mel")),
    "mel_delta2_no_level": FeatureConfig(
        target_level=None, input=FeatureSpec("mel", delta=2), target=FeatureSpec("linear", cmvn=False)
    ),
    "linear_no_cmvn": FeatureConfig(input=FeatureSpec("linear", cmvn=False), target=FeatureSpec("mel", log=False)),
    "no_target": FeatureConfig(input=FeatureSpec("mel", cmvn=False), target=None),
}
EXPECTED_DIMS = {
    "mockingjay_default": (80, 201),
    "mel_delta1_mel_target": (160, 80),
    "mel_delta2_no_level": (240, 201),
    "linear_no_cmvn": (201, 80),
    "no_target": (80, 0),
}


@pytest.fixture(scope="module")
def waves() -> list[torch.Tensor]:
    return [speech_like(1.3, seed=0), speech_like(0.61, seed=1), speech_like(2.0, seed=2)]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_shapes_and_dims(name, waves):
    extractor = FeatureExtractor(CONFIGS[name])
    assert (extractor.input_dim, extractor.target_dim) == EXPECTED_DIMS[name]
    assert (extractor.hop_length, extractor.win_length) == (160, 400)
    with_target = CONFIGS[name].target is not None
    out = extractor(waves, with_target=with_target)
    assert isinstance(out, ExtractedFeatures)
    expected_lengths = [w.numel() // 160 + 1 for w in waves]
    assert out.lengths.tolist() == expected_lengths
    assert out.lengths.dtype == torch.long
    assert out.inputs.shape == (3, max(expected_lengths), EXPECTED_DIMS[name][0])
    assert out.inputs.dtype == torch.float32
    if with_target:
        assert out.targets.shape == (3, max(expected_lengths), EXPECTED_DIMS[name][1])
    assert torch.isfinite(out.inputs).all()
    assert extractor(waves).targets is None


def test_num_frames_int_and_tensor():
    extractor = FeatureExtractor()
    assert extractor.num_frames(400) == 3
    assert extractor.num_frames(16000) == 101
    assert extractor.num_frames(160000) == 1001
    assert extractor.num_frames(torch.tensor([400, 559, 560, 16000])).tolist() == [3, 4, 4, 101]


@pytest.mark.parametrize("name", ["mockingjay_default", "mel_delta2_no_level", "linear_no_cmvn"])
def test_batch_equals_one_by_one_and_padding_is_zero(name, waves):
    extractor = FeatureExtractor(CONFIGS[name])
    batch = extractor(waves, with_target=True)
    for i, wave in enumerate(waves):
        alone = extractor([wave], with_target=True)
        n = alone.lengths[0].item()
        assert batch.lengths[i].item() == n
        torch.testing.assert_close(batch.inputs[i, :n], alone.inputs[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(batch.targets[i, :n], alone.targets[0], atol=1e-5, rtol=1e-5)
        assert (batch.inputs[i, n:] == 0).all()
        assert (batch.targets[i, n:] == 0).all()
    # the longest utterance defines the batch; the shorter ones really are padded
    assert (batch.lengths < batch.inputs.shape[1]).sum() == 2


def test_cmvn_normalises_valid_frames_only(waves):
    out = FeatureExtractor(FeatureConfig(input=FeatureSpec("mel", delta=1)))(waves)
    for i in range(len(waves)):
        valid = out.inputs[i, : out.lengths[i]]
        torch.testing.assert_close(valid.mean(0), torch.zeros(160), atol=1e-4, rtol=0)
        torch.testing.assert_close(valid.std(0), torch.ones(160), atol=1e-4, rtol=0)


def test_target_level_makes_features_gain_invariant(waves):
    wave = waves[0]
    levelled = FeatureExtractor(FeatureConfig(input=FeatureSpec("mel", cmvn=False)))
    torch.testing.assert_close(levelled([wave]).inputs, levelled([wave * 4.0]).inputs, atol=1e-4, rtol=0)
    raw = FeatureExtractor(FeatureConfig(target_level=None, input=FeatureSpec("mel", cmvn=False)))
    # without levelling, a gain of 4 shifts the natural-log power by log(16)
    diff = raw([wave * 4.0]).inputs - raw([wave]).inputs
    assert abs(diff.median().item() - math.log(16.0)) < 1e-3


def test_long_input_and_float64(waves):
    long_wave = speech_like(16.0, seed=3).double()  # 1601 frames: beyond s3prl's 1500-frame pretraining length
    out = FeatureExtractor()([long_wave, waves[1]], with_target=True)
    assert out.lengths.tolist() == [1601, 62]
    assert out.inputs.dtype == torch.float32
    assert torch.isfinite(out.targets).all()


def test_parameter_free():
    extractor = FeatureExtractor()
    assert list(extractor.parameters()) == []
    assert extractor.state_dict() == {}


@pytest.mark.parametrize(
    "wavs, match",
    [
        ([], "empty list"),
        ([torch.zeros(0)], "empty"),
        ([torch.zeros(2, 800)], "1-D"),
        ([torch.zeros(800, dtype=torch.int16)], "floating-point"),
        ([torch.full((800,), float("nan"))], "NaN"),
        ([torch.randn(800), torch.randn(399)], "shorter than one frame"),
    ],
)
def test_bad_waves_raise(wavs, match):
    with pytest.raises(ValueError, match=match):
        FeatureExtractor()(wavs)


def test_single_tensor_wrong_rate_and_missing_target_raise():
    extractor = FeatureExtractor()
    with pytest.raises(ValueError, match="list"):
        extractor(torch.randn(2, 800))
    with pytest.raises(ValueError, match="8000 Hz"):
        extractor([torch.randn(800)], sample_rate=8000)
    with pytest.raises(ValueError, match="no target"):
        FeatureExtractor(CONFIGS["no_target"])([torch.randn(800)], with_target=True)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"input": {"feat_type": "mfcc"}}, "feat_type"),
        ({"input": {"delta": 3}}, "delta"),
        ({"win_ms": 50}, "FFT size"),
        ({"hop_ms": 30}, "hop_ms"),
        ({"n_mels": 0}, "n_mels"),
    ],
)
def test_bad_config_raises(kwargs, match):
    from aalbert.config import from_dict

    with pytest.raises(ConfigError, match=match):
        from_dict(FeatureConfig, kwargs)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_s3prl_round_trip(name):
    cfg = CONFIGS[name]
    audio = cfg.to_s3prl()
    assert audio["input"]["channel"] == 0
    back = FeatureConfig.from_s3prl(audio)
    if cfg.target is None:
        # s3prl cannot say "no target": it reconstructs the input
        assert "target" not in audio and back.target == cfg.input
        back.target = None
    assert back == cfg


def test_output_size_is_known_without_an_extractor():
    for cfg in (
        FeatureConfig(),
        FeatureConfig(input=FeatureSpec("linear", delta=2), target=None),
        FeatureConfig.from_s3prl(
            {
                "kaldi": {"feat_type": "spectrogram", "spectrogram": {}},
                "delta": {"order": 1},
                "cmvn": {"use_cmvn": True},
            }
        ),
    ):
        extractor = FeatureExtractor(cfg)
        feats = extractor([torch.randn(8000)], with_target=cfg.target is not None or cfg.kaldi is not None)
        assert cfg.output_dim == extractor.input_dim == feats.inputs.shape[-1]
        assert feats.inputs.shape[1] == extractor.num_frames(8000)
        if feats.targets is not None:
            assert cfg.target_dim == feats.targets.shape[-1]


def test_output_size_is_a_config_property_that_builds_no_extractor(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a FeatureExtractor was built")

    monkeypatch.setattr(FeatureExtractor, "__init__", refuse)
    assert isinstance(FeatureConfig.output_dim, property) and isinstance(FeatureConfig.target_dim, property)
    kaldi = FeatureConfig.from_s3prl(
        {"kaldi": {"feat_type": "spectrogram", "spectrogram": {}}, "delta": {"order": 1}, "cmvn": {"use_cmvn": True}}
    )
    dims = [
        (cfg.output_dim, cfg.target_dim)
        for cfg in (FeatureConfig(), FeatureConfig(input=FeatureSpec("linear", delta=2), target=None), kaldi)
    ]
    assert dims == [(80, 201), (603, 0), (514, 514)]


def test_from_s3prl_follows_s3prl_conventions():
    audio = {
        "target_level": "None",
        "win_ms": 25,
        "hop_ms": 10,
        "n_freq": 201,
        "n_mfcc": 13,
        "input": {"feat_type": "mel", "channel": 0, "log": True},
    }
    cfg = FeatureConfig.from_s3prl(audio)
    assert cfg.target_level is None
    assert cfg.n_mels == 40  # OnlinePreprocessor's default
    assert cfg.input == FeatureSpec("mel", log=True, delta=0, cmvn=False)
    assert cfg.target == cfg.input  # no target: s3prl predicts the input
    assert audio["input"] == {"feat_type": "mel", "channel": 0, "log": True}  # not mutated
    with pytest.raises(ValueError, match="kaldi needs a 'fbank' mapping"):
        FeatureConfig.from_s3prl({**audio, "kaldi": {}})
    with pytest.raises(ValueError, match="cmvn.use_cmvn is missing"):
        FeatureConfig.from_s3prl({"kaldi": {"feat_type": "fbank", "fbank": {}}})
    with pytest.raises(ValueError, match="feat_type 'mfcc' of s3prl's preprocessor is not supported"):
        FeatureConfig.from_s3prl({**audio, "input": {"feat_type": "mfcc", "channel": 0}})
    with pytest.raises(ConfigError, match="unknown key"):
        FeatureConfig.from_s3prl({**audio, "input": {"feat_type": "mel", "power": 2}})
    with pytest.raises(ValueError, match="input"):
        FeatureConfig.from_s3prl({"target_level": -25})
    with pytest.warns(UserWarning, match="ref_level_db"):
        FeatureConfig.from_s3prl({**audio, "ref_level_db": 20})


PARITY_CASES = {
    "mockingjay_mel_linear": (
        {"feat_type": "mel", "log": True, "delta": 0, "cmvn": True},
        {"feat_type": "linear", "log": True, "delta": 0, "cmvn": False},
        -25,
    ),
    "mel_delta2_cmvn": (
        {"feat_type": "mel", "log": True, "delta": 2, "cmvn": True},
        {"feat_type": "mel", "log": True, "delta": 0, "cmvn": True},
        -25,
    ),
    "delta1_no_level": (
        {"feat_type": "mel", "log": True, "delta": 1, "cmvn": False},
        {"feat_type": "linear", "log": True, "delta": 1, "cmvn": True},
        "None",
    ),
    "no_log": (
        {"feat_type": "linear", "log": False, "delta": 0, "cmvn": False},
        {"feat_type": "mel", "log": False, "delta": 0, "cmvn": False},
        -25,
    ),
}


def s3prl_features(audio: dict, wave: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, int, int]:
    """s3prl's mockingjay on-the-fly path for one utterance: builder level normalisation + preprocessor."""
    from s3prl.upstream.baseline.preprocessor import get_preprocessor
    from s3prl.upstream.mockingjay.builder import TransformerBuilder

    preprocessor, input_dim, target_dim = get_preprocessor(copy.deepcopy(audio))
    if audio["target_level"] != "None":
        wave = TransformerBuilder._normalize_wav_decibel(SimpleNamespace(target_level=audio["target_level"]), wave)
    inputs, targets = preprocessor(wave.view(1, 1, -1), wavs_len=[wave.numel()])
    return inputs[0], targets[0], input_dim, target_dim


@pytest.mark.s3prl
# s3prl's preprocessor always builds an unused 128-mel MFCC transform, which warns
@pytest.mark.filterwarnings("ignore:At least one mel filterbank has all zero values")
@pytest.mark.parametrize("case", sorted(PARITY_CASES))
def test_parity_with_s3prl(case):
    input_spec, target_spec, level = PARITY_CASES[case]
    audio = s3prl_audio(input_spec, target_spec, level)
    extractor = FeatureExtractor(FeatureConfig.from_s3prl(audio))
    wavs = [speech_like(3.0, seed=4), speech_like(1.1, seed=5), *load_real_speech()]
    ours = extractor(wavs, with_target=True)
    for i, wave in enumerate(wavs):
        ref_in, ref_tgt, input_dim, target_dim = s3prl_features(audio, wave)
        assert (extractor.input_dim, extractor.target_dim) == (input_dim, target_dim)
        n = ours.lengths[i].item()
        assert n == ref_in.shape[0]
        assert (ours.inputs[i, :n] - ref_in).abs().max().item() <= 1e-4
        # un-logged linear power reaches ~1e2: compare relative to its scale
        scale = max(1.0, ref_tgt.abs().max().item())
        assert (ours.targets[i, :n] - ref_tgt).abs().max().item() <= 1e-4 * scale
