import pytest
import torch
import torch.nn.functional as F

from aalbert.downstream.featurizer import Featurizer
from aalbert.errors import BadInputError


def _states(n=4, shape=(2, 5, 8)):
    torch.manual_seed(0)
    return [torch.randn(*shape) * (i + 1) for i in range(n)]


def test_weighted_sum_starts_uniform_and_weights_sum_to_one():
    hs = _states()
    f = Featurizer(4)
    assert torch.allclose(f(hs), torch.stack(hs).mean(0), atol=1e-6)
    with torch.no_grad():
        f.weights.copy_(torch.tensor([0.0, 0.0, 5.0, 0.0]))
    w = f.layer_weights()
    assert sum(w) == pytest.approx(1.0) and max(range(4), key=w.__getitem__) == 2
    expected = sum(wi * h for wi, h in zip(w, hs))
    assert torch.allclose(f(hs), expected, atol=1e-5)


def test_weights_receive_gradients():
    f = Featurizer(3)
    f(_states(3)).pow(2).sum().backward()
    assert f.weights.grad is not None and f.weights.grad.abs().sum() > 0


def test_layer_norm_normalises_each_state_before_weighting():
    hs = _states()
    f = Featurizer(4, layer_norm=True)
    expected = torch.stack([F.layer_norm(h, (8,)) for h in hs]).mean(0)
    assert torch.allclose(f(hs), expected, atol=1e-5)


def test_single_layer_and_last_selection():
    hs = _states()
    f = Featurizer(4, "hidden_states", layer=1)
    assert torch.equal(f(hs), hs[1]) and f.weights is None
    assert f.layer_weights() == [0.0, 1.0, 0.0, 0.0]
    assert torch.equal(Featurizer(4, "last")(hs), hs[3])
    assert torch.equal(Featurizer(4, "hidden_states", layer=-1)(hs), hs[3])


def test_single_hidden_state_upstream_always_selects_it():
    hs = _states(1)
    for mode in ("weighted_sum", "last"):
        f = Featurizer(1, mode)
        assert torch.equal(f(hs), hs[0]) and f.layer_weights() == [1.0]


def test_bad_selection_errors():
    with pytest.raises(BadInputError, match="out of range.*4 hidden states"):
        Featurizer(4, "hidden_states", layer=4)
    with pytest.raises(BadInputError, match="needs a layer"):
        Featurizer(4, "hidden_states")
    with pytest.raises(BadInputError, match="weighted_sum, last, hidden_states"):
        Featurizer(4, "mean")
    with pytest.raises(BadInputError, match="expected 4 hidden states, got 3"):
        Featurizer(4)(_states(3))


def test_a_state_the_featurizer_reads_may_not_be_none():
    from aalbert.errors import BadInputError

    hs = _states()
    assert torch.equal(Featurizer(4, "hidden_states", 2)([None, None, hs[2], None]), hs[2])
    with pytest.raises(BadInputError, match="hidden state 1 was passed as None"):
        Featurizer(4)([hs[0], None, hs[2], hs[3]])


def test_cmvn_normalises_each_state_over_its_utterance_valid_frames():
    hs = [h + 3.0 for h in _states(2, (2, 6, 4))]
    lengths = torch.tensor([6, 4])
    f = Featurizer(2, cmvn=True)
    out = f(hs, lengths)
    for b, n in enumerate(lengths.tolist()):
        # per state: (x - mean) / (std + eps) over the utterance's own frames (unbiased std, as the
        # front end's CMVN), then the uniform weighted sum; a padded frame neither counts nor stays
        expected = sum(0.5 * (h[b, :n] - h[b, :n].mean(0)) / (h[b, :n].std(0) + 1e-10) for h in hs)
        assert torch.allclose(out[b, :n], expected, atol=1e-5)
        assert torch.equal(out[b, n:], torch.zeros_like(out[b, n:]))
        alone = f([h[b : b + 1, :n] for h in hs], torch.tensor([n]))
        assert torch.allclose(alone[0], out[b, :n], atol=1e-6)
    assert f.describe()["cmvn"] is True


def test_cmvn_needs_lengths_and_survives_one_frame():
    with pytest.raises(BadInputError, match="cmvn.*lengths"):
        Featurizer(2, cmvn=True)(_states(2))
    out = Featurizer(1, cmvn=True)([torch.randn(1, 3, 4)], torch.tensor([1]))
    assert torch.isfinite(out).all()


def test_cmvn_of_fbank_is_log_mel_with_per_utterance_cmvn():
    """featurizer.cmvn on the fbank baseline is the log-mel front end with its own CMVN on."""
    from aalbert.upstream.fbank import FbankUpstream
    from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec

    torch.manual_seed(0)
    wavs = [torch.randn(16000), torch.randn(9000)]
    plain = FbankUpstream()(wavs)
    with_cmvn = FbankUpstream(FeatureConfig(input=FeatureSpec("mel", log=True, delta=0, cmvn=True), target=None))(wavs)
    out = Featurizer(1, cmvn=True)(plain["hidden_states"], plain["lengths"])
    assert torch.allclose(out, with_cmvn["hidden_states"][0], atol=1e-4)
