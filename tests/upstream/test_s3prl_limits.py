"""What s3prl 0.4.18's own upstream cannot use of our checkpoints (aalbert.upstream.s3prl_limits): each
limit is checked against s3prl itself, so a release of s3prl that lifts one fails here first."""

from __future__ import annotations

import pytest
import torch

# s3prl is a test requirement: a missing install must fail, not skip
from s3prl.upstream.mockingjay.expert import UpstreamExpert
from s3prl.upstream.mockingjay.model import TransformerConfig as S3PRLTransformerConfig
from s3prl_reference import assert_parity, quiet, s3prl_expert_hidden

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.kaldi_features import KaldiFrontEnd
from aalbert.upstream.model_config import TransformerConfig
from aalbert.upstream.s3prl_limits import S3PRLCannotLoadWarning, s3prl_load_message, s3prl_load_problems

pytestmark = pytest.mark.s3prl


def write(make_s3prl_checkpoint, name: str, match: str, feature_config=None, **encoder_kw):
    with pytest.warns(S3PRLCannotLoadWarning, match=match):
        return make_s3prl_checkpoint(name=name, feature_config=feature_config, **encoder_kw)


def test_stacked_checkpoint_loads_here_and_not_in_s3prl(make_s3prl_checkpoint, speech_like):
    path = write(make_s3prl_checkpoint, "stacked.ckpt", r"stacks 3 frames.*set model\.stacking=1", stacking=3)
    section = load_checkpoint_file(path)["Upstream_Config"]["transformer"]
    assert section["downsample_rate"] == 3  # the file says what the model is
    # why s3prl cannot: its config has no stacking at all, and its input layer takes one 80-dim frame
    assert not hasattr(S3PRLTransformerConfig(section), "downsample_rate")
    with pytest.raises(RuntimeError, match="Pre-trained weights NOT loaded"):
        quiet(UpstreamExpert, str(path))
    ours = upstream_from_checkpoint(path)
    assert ours.encoder.input.spec_transform.in_features == 240 and ours.downsample_rate == 480
    with torch.inference_mode():
        assert ours([speech_like(0.5)])["hidden_states"][0].shape[1] == 17  # 51 frames, 3 at a time


def test_level_normalisation_off_fails_in_s3prl(make_s3prl_checkpoint):
    path = write(
        make_s3prl_checkpoint,
        "level.ckpt",
        r"target_level is off.*audio\.target_level=-25",
        FeatureConfig(target_level=None),
    )
    with pytest.raises(TypeError):  # s3prl's upstream divides the string 'None' by 20
        quiet(UpstreamExpert, str(path))
    assert upstream_from_checkpoint(path).feature_config.target_level is None


def test_other_hop_gives_s3prl_our_hidden_states_at_the_wrong_rate(make_s3prl_checkpoint, speech_like):
    path = write(
        make_s3prl_checkpoint, "hop.ckpt", r"20 ms apart.*reports 10 ms.*audio\.hop_ms=10", FeatureConfig(hop_ms=20)
    )
    ours = upstream_from_checkpoint(path)
    wavs = [speech_like(1.0), speech_like(0.7, seed=1)]
    with torch.inference_mode():
        out = ours(wavs)
    assert_parity(out, [s3prl_expert_hidden(UpstreamExpert, path, w) for w in wavs])
    assert (ours.downsample_rate, quiet(UpstreamExpert, str(path)).get_downsample_rates("hidden_states")) == (320, 160)


def fbank(shift_ms: float) -> KaldiFrontEnd:
    """s3prl's Kaldi front end (no level normalisation: target_level off is not a problem there)."""
    fbank = {"num_mel_bins": 80, "frame_shift": shift_ms}
    return KaldiFrontEnd.from_s3prl({"kaldi": {"feat_type": "fbank", "fbank": fbank}, "cmvn": {"use_cmvn": False}})


def test_problems_name_each_fix_and_none_for_what_s3prl_loads():
    assert s3prl_load_problems(TransformerConfig(), FeatureConfig()) == []
    assert s3prl_load_problems(TransformerConfig(), FeatureConfig(target_level=None, kaldi=fbank(10.0))) == []
    every = s3prl_load_problems(TransformerConfig(stacking=3), FeatureConfig(target_level=None, hop_ms=20))
    message = s3prl_load_message(every)
    assert "set model.stacking=1, audio.target_level=-25, audio.hop_ms=10." in message
    assert message.endswith("aalbert loads them as they are (-u aalbert_local -k CKPT).") and "\n" not in message
    (problem,) = s3prl_load_problems(TransformerConfig(), FeatureConfig(target_level=None, kaldi=fbank(20.0)))
    assert problem.fix == "the Kaldi front end's frame_shift=10"
