"""Parity with s3prl 0.4.18's mockingjay / audio_albert upstreams on the same checkpoint files.

Checkpoints are written from s3prl's own model classes (random weights, every parameter
perturbed so biases and LayerNorms matter too) and loaded by both sides. s3prl is fed one
utterance at a time: in a padded batch its extractor lets the batch's zero padding into a short
utterance's last STFT frames and CMVN statistics (ours computes each utterance as if alone), so
only its single-utterance outputs are the reference. Hidden size 64 keeps it fast: s3prl builds
a 24000 x hidden position table in Python on first use.
"""

from __future__ import annotations

import argparse

import pytest

# s3prl is a test requirement: a missing install must fail, not skip
import s3prl.upstream.mockingjay.model as s3prl_model  # noqa: E402
import torch
from s3prl.upstream.audio_albert.expert import UpstreamExpert as AlbertExpert  # noqa: E402
from s3prl.upstream.baseline.preprocessor import get_preprocessor  # noqa: E402
from s3prl.upstream.mockingjay.builder import position_encoding  # noqa: E402
from s3prl.upstream.mockingjay.expert import UpstreamExpert as MockingjayExpert  # noqa: E402
from s3prl_config_model import config_model
from s3prl_reference import assert_parity, s3prl_expert_hidden

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.upstream.checkpoint import head_from_checkpoint, save_s3prl_checkpoint, upstream_from_checkpoint
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec

pytestmark = pytest.mark.s3prl


def s3prl_transformer_section(layers: int, share: bool, stacking: int = 1) -> dict:
    """s3prl's transformer section at this test's size, with the input size and stacking filled in."""
    return {**config_model(layers, share)["transformer"], "input_dim": 80, "downsample_rate": stacking}


def write_s3prl_checkpoint(path, layers: int, share: bool, stacking: int = 1, target: str = "mel", seed: int = 0):
    """A checkpoint as s3prl's pretraining writes it, built with s3prl's own classes."""
    section = s3prl_transformer_section(layers, share, stacking)
    features = FeatureConfig(target=FeatureSpec(target))
    torch.manual_seed(seed)
    config = s3prl_model.TransformerConfig(section)
    model = s3prl_model.TransformerModel(config, 80 * stacking)
    head = s3prl_model.TransformerSpecPredictionHead(config, (201 if target == "linear" else 80) * stacking)
    with torch.no_grad():
        for p in list(model.parameters()) + list(head.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    torch.save(
        {
            "Step": 10,
            "Args": argparse.Namespace(upstream="mockingjay"),
            "Config": {},
            "Upstream_Config": {
                "transformer": section,
                "task": {"loss": "L1", "sequence_length": 1500},
                "audio": features.to_s3prl(),
            },
            "Transformer": model.state_dict(),
            "SpecHead": head.state_dict(),
        },
        path,
    )
    return path


def s3prl_stacked_hidden(path, wav) -> list[torch.Tensor]:
    """s3prl 0.4.18's upstream cannot stack frames; this is its model on s3prl's features stacked
    the way the original mockingjay did (trailing frames dropped, frames concatenated)."""
    ckpt = load_checkpoint_file(path)
    cfg = ckpt["Upstream_Config"]
    dr = cfg["transformer"]["downsample_rate"]
    extracter, inp_dim, _ = get_preprocessor(cfg["audio"], process_input_only=True)
    model = s3prl_model.TransformerModel(s3prl_model.TransformerConfig(cfg["transformer"]), inp_dim * dr)
    model.load_state_dict(ckpt["Transformer"])
    model.eval()
    level = cfg["audio"]["target_level"]
    wav = wav * (10 ** (level / 20)) / (wav.pow(2).mean().pow(0.5) + 1e-10)
    with torch.no_grad():
        feats = extracter(wav.view(1, 1, -1), wavs_len=[wav.numel()])[0]
        kept = feats.size(1) // dr
        feats = feats[:, : kept * dr].reshape(1, kept, -1)
        pos = position_encoding(kept, model.config.hidden_size).unsqueeze(0)
        return [h[0] for h in model(feats, pos, torch.ones(1, kept), output_all_encoded_layers=True)]


@pytest.fixture(scope="module")
def wavs():
    from speech_waves import load_real_speech, make_speech_like

    return [make_speech_like(1.6, seed=0), make_speech_like(0.93, seed=1), *load_real_speech()]


@pytest.mark.parametrize("case", ["mockingjay_3l", "aalbert_3l"])
def test_s3prl_checkpoint_gives_s3prl_hidden_states(tmp_path, wavs, case):
    share = case.startswith("aalbert")
    path = write_s3prl_checkpoint(tmp_path / f"{case}.ckpt", 3, share)
    ours = upstream_from_checkpoint(path)
    assert len(ours.encoder.groups) == (1 if share else 3)
    with torch.inference_mode():
        out = ours(wavs)
    expert = AlbertExpert if share else MockingjayExpert
    assert_parity(out, [s3prl_expert_hidden(expert, path, w) for w in wavs])


def test_stacked_checkpoint_with_linear_target(tmp_path, wavs):
    path = write_s3prl_checkpoint(tmp_path / "mockingjay_3l_dr3.ckpt", 3, False, stacking=3, target="linear")
    ours = upstream_from_checkpoint(path)
    assert ours.downsample_rate == 480
    ckpt = load_checkpoint_file(path)
    head = head_from_checkpoint(ckpt, ours.encoder_config, path)
    assert head.output.out_features == 603
    with torch.inference_mode():
        out = ours(wavs)
    assert_parity(out, [s3prl_stacked_hidden(path, w) for w in wavs])


# any weight sharing loads (2 groups of 3 layers: s3prl reads every layer written, unshared);
# stacking 1 and s3prl's audio settings, so writing them must not warn that s3prl cannot
@pytest.mark.filterwarnings("error::aalbert.upstream.s3prl_limits.S3PRLCannotLoadWarning")
@pytest.mark.parametrize("groups", [3, 2, 1])
def test_our_checkpoint_loads_in_s3prl(tmp_path, wavs, make_s3prl_checkpoint, groups):
    path = make_s3prl_checkpoint(name=f"ours_{groups}.ckpt", num_hidden_groups=groups, seed=groups)
    ours = upstream_from_checkpoint(path)
    with torch.no_grad():
        for p in ours.encoder.parameters():  # non-trivial biases / LayerNorms too
            p.add_(0.05 * torch.randn_like(p))
    ckpt = load_checkpoint_file(path)
    head = head_from_checkpoint(ckpt, ours.encoder_config, path)
    path = save_s3prl_checkpoint(tmp_path / f"resaved_{groups}.ckpt", ours.encoder, head, ours.feature_config, step=5)
    with torch.inference_mode():
        out = ours(wavs)
    expert = AlbertExpert if groups == 1 else MockingjayExpert
    assert_parity(out, [s3prl_expert_hidden(expert, path, w) for w in wavs])


KALDI_AUDIO = {
    "fbank_deltas": {
        "kaldi": {
            "feat_type": "fbank",
            "fbank": {"num_mel_bins": 80, "frame_length": 25.0, "frame_shift": 10.0, "use_log_fbank": True},
        },
        "delta": {"order": 2, "win_length": 5},
        "cmvn": {"use_cmvn": True},
    },
    "mfcc_default_deltas": {"kaldi": {"feat_type": "mfcc", "mfcc": {"num_ceps": 13}}, "cmvn": {"use_cmvn": False}},
}


@pytest.mark.parametrize("variant", list(KALDI_AUDIO))
def test_kaldi_front_end_checkpoint(tmp_path, wavs, variant):
    """s3prl's other on-the-fly front end (audio.kaldi: torchaudio.compliance.kaldi features)."""
    from aalbert.upstream.feature_config import FeatureConfig as Features

    audio = KALDI_AUDIO[variant]
    dim = Features.from_s3prl(audio).output_dim  # known without building an extractor
    assert dim == {"fbank_deltas": 240, "mfcc_default_deltas": 39}[variant]
    section = {**s3prl_transformer_section(3, share=True), "input_dim": -1}
    torch.manual_seed(3)
    config = s3prl_model.TransformerConfig(section)
    model = s3prl_model.TransformerModel(config, dim)
    head = s3prl_model.TransformerSpecPredictionHead(config, dim)
    with torch.no_grad():
        for p in list(model.parameters()) + list(head.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / f"{variant}.ckpt"
    torch.save(
        {
            "Step": 1,
            "Args": argparse.Namespace(upstream="audio_albert"),
            "Config": {},
            "Upstream_Config": {
                "transformer": section,
                "task": {"loss": "L1", "sequence_length": 1500},
                "audio": audio,
            },
            "Transformer": model.state_dict(),
            "SpecHead": head.state_dict(),
        },
        path,
    )
    ours = upstream_from_checkpoint(path)
    assert ours.feature_config.to_s3prl()["kaldi"] == audio["kaldi"]
    with torch.inference_mode():
        out = ours(wavs)
    assert_parity(out, [s3prl_expert_hidden(AlbertExpert, path, w) for w in wavs])
    assert out["lengths"].tolist() == [ours.features.num_frames(w.numel()) for w in wavs]
