"""s3prl 0.4.18's two featurizers over our upstreams: the hub one as is, ``s3prl.nn``'s through the adapter."""

from __future__ import annotations

import contextlib
import io

import pytest
import torch

# s3prl is a test requirement: a missing install must fail, not skip
from s3prl.upstream.interfaces import Featurizer as HubFeaturizer

from aalbert import s3prl_compat
from aalbert.errors import BadInputError
from aalbert.upstream import FbankUpstream, FeatureConfig, S3PRLUpstreamAdapter, TransformerConfig, Upstream
from aalbert.upstream.checkpoint import upstream_from_checkpoint

pytestmark = pytest.mark.s3prl


@pytest.fixture(scope="module")
def s3prl_nn():
    """``s3prl.nn``: it imports s3prl.hub, which imports every s3prl upstream, and some need what
    torchaudio 2.9 removed; aalbert.s3prl_compat puts that back (tests/test_s3prl_compat.py)."""
    s3prl_compat.install()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):  # hub's notes
        import s3prl.nn
    return s3prl.nn


def tiny_upstream(stacking: int) -> Upstream:
    torch.manual_seed(stacking)
    config = TransformerConfig(
        hidden_size=32, num_hidden_layers=3, num_attention_heads=4, intermediate_size=64, stacking=stacking
    )
    return Upstream(FeatureConfig(), config, name="tiny").eval()


def random_weights(featurizer) -> torch.Tensor:
    with torch.no_grad():
        featurizer.weights.copy_(torch.randn(featurizer.weights.shape, generator=torch.Generator().manual_seed(1)))
    return torch.softmax(featurizer.weights.detach(), dim=0)


def hand_weighted_sum(hidden: list[torch.Tensor], weights: torch.Tensor) -> torch.Tensor:
    total = torch.zeros_like(hidden[0])
    for w, h in zip(weights.tolist(), hidden):
        total += w * h
    return total


@pytest.fixture
def waves(speech_like):
    return [speech_like(1.0), speech_like(0.61, seed=1)]


@pytest.mark.parametrize("stacking", [1, 3])
def test_hub_featurizer_weights_every_hidden_state(waves, stacking):
    upstream = tiny_upstream(stacking)
    with contextlib.redirect_stderr(io.StringIO()):  # s3prl reports what it found
        featurizer = HubFeaturizer(upstream, upstream_device="cpu")
    assert featurizer.weights.shape == (upstream.num_layers + 1,)
    assert (featurizer.output_dim, featurizer.downsample_rate) == (32, 160 * stacking)
    weights = random_weights(featurizer)
    with torch.no_grad():
        out = upstream(waves)
        features = featurizer(waves, out)
    expected = hand_weighted_sum(out["hidden_states"], weights)
    for i, (wav, feature) in enumerate(zip(waves, features)):
        frames = round(len(wav) / (160 * stacking))  # s3prl cuts each utterance to samples / rate
        assert feature.shape == (frames, 32)
        torch.testing.assert_close(feature, expected[i, :frames], atol=1e-5, rtol=0)


@pytest.mark.parametrize("stacking", [1, 3])
def test_s3prl_nn_featurizer_over_the_adapter(s3prl_nn, waves, stacking):
    upstream = tiny_upstream(stacking)
    adapter = S3PRLUpstreamAdapter(upstream)
    assert (adapter.num_layers, upstream.num_layers) == (4, 3)  # s3prl.nn counts hidden states, we count layers
    assert adapter.hidden_sizes == [32] * 4 and adapter.downsample_rates == [160 * stacking] * 4
    featurizer = s3prl_nn.Featurizer(adapter)
    assert (featurizer.output_size, featurizer.downsample_rate) == (32, 160 * stacking)
    assert featurizer.weights.shape == (4,)  # every hidden state, the last layer's too
    weights = random_weights(featurizer)
    padded = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True)
    wavs_len = torch.tensor([len(w) for w in waves])
    with torch.no_grad():
        all_hs, all_lens = adapter(padded, wavs_len)
        hs, hs_len = featurizer(all_hs, all_lens)
        out = upstream(waves)
    assert len(all_hs) == len(all_lens) == 4
    assert hs.shape == out["last_hidden_state"].shape and hs.shape[::2] == (2, 32)
    assert hs_len.tolist() == out["lengths"].tolist()
    torch.testing.assert_close(hs, hand_weighted_sum(out["hidden_states"], weights), atol=1e-5, rtol=0)


@pytest.mark.parametrize("entry", ["audio_albert_local", "mockingjay_local"])
def test_s3prl_nn_loads_our_checkpoint_by_its_hub_name(s3prl_nn, make_s3prl_checkpoint, speech_like, entry):
    """s3prl.nn's own S3PRLUpstream (s3prl's hub, s3prl's upstream code) and Featurizer on our file."""
    path = make_s3prl_checkpoint(name="ours.ckpt", num_hidden_groups=1 if entry.startswith("audio") else None)
    with contextlib.redirect_stdout(io.StringIO()):  # s3prl reports what it builds
        upstream = s3prl_nn.S3PRLUpstream(entry, str(path)).eval()
    featurizer = s3prl_nn.Featurizer(upstream)
    assert (upstream.num_layers, featurizer.output_size, featurizer.downsample_rate) == (4, 64, 160)
    weights = random_weights(featurizer)
    wav = speech_like(1.0)
    with torch.no_grad():
        all_hs, all_lens = upstream(wav[None], torch.tensor([len(wav)]))
        hs, hs_len = featurizer(all_hs, all_lens)
        ours = upstream_from_checkpoint(path)([wav])["hidden_states"]
    n = 100  # s3prl.nn keeps ceil(samples / 160) frames; ours has the STFT's 101st
    assert hs_len.tolist() == [n] and hs.shape == (1, n, 64)
    for theirs, mine in zip(all_hs, ours):
        torch.testing.assert_close(theirs[0], mine[0, :n], atol=1e-4, rtol=0)
    torch.testing.assert_close(hs[0], hand_weighted_sum(ours, weights)[0, :n], atol=1e-4, rtol=0)


def test_one_hidden_state_passes_through_unweighted(s3prl_nn, waves):
    upstream = FbankUpstream()
    adapter = S3PRLUpstreamAdapter(upstream)
    featurizer = s3prl_nn.Featurizer(adapter)
    assert adapter.num_layers == 1 and not hasattr(featurizer, "weights")
    padded = torch.nn.utils.rnn.pad_sequence(waves, batch_first=True).unsqueeze(-1)  # (B, T, 1) is accepted too
    hs, hs_len = featurizer(*adapter(padded, torch.tensor([len(w) for w in waves])))
    out = upstream(waves)
    assert torch.equal(hs, out["hidden_states"][0]) and torch.equal(hs_len, out["lengths"])


def test_adapter_refuses_misshapen_input_and_broken_upstreams(waves):
    adapter = S3PRLUpstreamAdapter(tiny_upstream(1))
    with pytest.raises(BadInputError, match=r"expected wavs \(batch, samples\) and wavs_len \(batch,\)"):
        adapter(waves[0], torch.tensor([len(waves[0])]))

    class Liar(torch.nn.Module):  # says 5 layers, gives 1 hidden state
        name, num_layers, hidden_size, downsample_rate = "liar", 5, 80, 160
        fbank = FbankUpstream()

        def forward(self, wavs):
            return self.fbank(wavs)

    with pytest.raises(BadInputError, match="liar: gave 1 hidden states, but num_layers 5 promises 6"):
        S3PRLUpstreamAdapter(Liar())(waves[0][None], torch.tensor([len(waves[0])]))
