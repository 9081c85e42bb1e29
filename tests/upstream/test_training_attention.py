"""The encoder's training-only paths: attention-probability dropout on CPU, and the last layer
computed at selected frames only (what pretraining's loss reads)."""

from __future__ import annotations

import math

import pytest
import torch

from aalbert.upstream.components import SelfAttention
from aalbert.upstream.dropout import Dropout, _DroppedAttention, dropout_attention, dropout_mask
from aalbert.upstream.model import TransformerEncoder
from aalbert.upstream.model_config import TransformerConfig

SMALL = dict(hidden_size=32, num_attention_heads=4, intermediate_size=64, num_hidden_layers=3)


def qkv(seed: int, B: int = 2, heads: int = 2, T: int = 12, d: int = 8) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(B, heads, T, d, generator=gen) for _ in range(3)]


def key_mask(lengths: list[int], T: int) -> torch.Tensor:
    return (torch.arange(T)[None, :] < torch.tensor(lengths)[:, None])[:, None, None, :]


def test_dropout_attention_is_softmax_attention_with_dropped_probabilities():
    q, k, v = qkv(0)
    mask, p = key_mask([12, 7], 12), 0.3
    torch.manual_seed(5)
    got = dropout_attention(q, k, v, mask, p)
    torch.manual_seed(5)  # the same draw, by the definition: drop each probability with chance p, rescale
    dropped = dropout_mask((2, 2, 12, 12), p)
    probs = ((q @ k.transpose(-1, -2)) / math.sqrt(8)).masked_fill(~mask, float("-inf")).softmax(-1)
    expected = (probs.masked_fill(dropped, 0.0) / (1 - p)) @ v
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    assert 0 < int(dropped.sum()) < dropped.numel()  # the draw dropped some entries, not all


def test_dropout_attention_drops_the_asked_share_and_is_unbiased():
    q, k, v = qkv(1, B=1, heads=1, T=6, d=4)
    mask = key_mask([4], 6)
    torch.manual_seed(0)
    draws = torch.stack([dropout_attention(q, k, v, mask, 0.1) for _ in range(4000)])
    no_dropout = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    # the mean over draws converges to the attention without dropout (dropout rescales by 1 / (1 - p))
    spread = draws.std(dim=0) / math.sqrt(draws.size(0))
    assert bool(((draws.mean(dim=0) - no_dropout).abs() <= 5 * spread + 1e-6).all())
    # padded keys never contribute, whatever their values
    v2 = v.clone()
    v2[..., 4:, :] = 1e6
    torch.manual_seed(3)
    a = dropout_attention(q, k, v, mask, 0.1)
    torch.manual_seed(3)
    torch.testing.assert_close(dropout_attention(q, k, v2, mask, 0.1), a)
    # and the dropped share is p
    dropped = torch.stack([dropout_attention(q, k, torch.eye(6)[None, None, :, :4], None, 0.1) for _ in range(50)])
    assert abs(float((dropped == 0).float().mean()) - 0.1) < 0.02


def test_dropout_mask_drops_the_asked_share_reproducibly():
    torch.manual_seed(0)
    a = dropout_mask((400, 1000), 0.1)
    b = dropout_mask((400, 1000), 0.1)
    torch.manual_seed(0)
    assert torch.equal(dropout_mask((400, 1000), 0.1), a)  # torch's seed governs it (exact resume)
    assert not torch.equal(a, b)
    for mask, p in ((a, 0.1), (dropout_mask((400, 1000), 0.5), 0.5), (dropout_mask((400, 1000), 0.9), 0.9)):
        sigma = math.sqrt(p * (1 - p) / mask.numel())
        assert abs(float(mask.float().mean()) - p) < 5 * sigma
    # no pattern along either axis: every row and column drops about p
    assert float(a.float().mean(dim=1).std()) < 2 * math.sqrt(0.09 / 1000)
    assert not dropout_mask((3, 5), 0.0).any() and dropout_mask((3, 5), 1.0).all()


def test_dropout_module_zeroes_p_and_rescales_the_rest():
    drop = Dropout(0.2)
    assert isinstance(drop, torch.nn.Dropout)  # what set_dropout (s3prl's dropout option) looks for
    x = torch.full((200, 500), 3.0, requires_grad=True)
    y = drop(x)
    assert set(torch.unique(y).tolist()) == {0.0, 3.0 / 0.8}
    assert abs(float((y == 0).float().mean()) - 0.2) < 0.01
    y.sum().backward()
    assert torch.equal(x.grad, (y != 0).float() / 0.8)
    assert torch.equal(drop.eval()(x), x)
    # the edges are torch's: nothing dropped at 0, everything at 1
    assert torch.equal(Dropout(0.0)(x), x) and not Dropout(1.0)(x).any()


@pytest.mark.parametrize("queries,frames", [(4, 7), (300, 501)])
def test_the_attention_function_has_the_reference_gradients(queries, frames):
    """The in-place backward against autograd through the plain operations, one fixed dropout draw
    (long rows too: the in-place softmax backward must hold for the vectorised kernel)."""
    gen = torch.Generator().manual_seed(2)
    q, k, v = (
        torch.randn(2, 3, n, 5, generator=gen, dtype=torch.float64, requires_grad=True)
        for n in (queries, frames, frames)
    )
    mask = key_mask([frames, frames - 2], frames)
    dropped = torch.rand(2, 3, queries, frames, generator=gen) < 0.3
    if frames < 10:  # numerical gradients: small sizes only
        torch.autograd.gradcheck(
            lambda q, k, v: _DroppedAttention.apply(q, k, v, mask, dropped), (q, k, v), eps=1e-6, atol=1e-8
        )
    q, k, v = (x.detach().float().requires_grad_() for x in (q, k, v))
    out = _DroppedAttention.apply(q, k, v, mask, dropped)
    ref = (q @ k.transpose(-1, -2)).masked_fill(~mask, float("-inf")).softmax(-1).masked_fill(dropped, 0.0) @ v
    torch.testing.assert_close(out, ref)
    g = torch.randn(out.shape, generator=gen)
    got = torch.autograd.grad(out, (q, k, v), g)
    expected = torch.autograd.grad(ref, (q, k, v), g)
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)


def test_training_attention_on_cpu_drops_probabilities_and_eval_does_not():
    torch.manual_seed(0)
    attn = SelfAttention(16, 2, dropout=0.5)
    x = torch.randn(2, 9, 16)
    attn.eval()
    a, b = attn(x, None)[0], attn(x, None)[0]
    torch.testing.assert_close(a, b)
    attn.train()
    c, d = attn(x, None)[0], attn(x, None)[0]
    assert not torch.allclose(c, d) and not torch.allclose(c, a)


def encoder_and_batch(stacking: int, groups: int | None, seed: int = 0):
    torch.manual_seed(seed)
    cfg = TransformerConfig(
        **SMALL, stacking=stacking, num_hidden_groups=groups, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    encoder = TransformerEncoder(cfg).train()
    lengths = torch.tensor([60, 45, 24])
    feats = torch.randn(3, 60, cfg.input_dim) * (torch.arange(60)[None, :, None] < lengths[:, None, None])
    T = 60 // stacking
    gen = torch.Generator().manual_seed(seed + 1)
    frames = (torch.rand(3, T, generator=gen) < 0.3) & (torch.arange(T)[None, :] < (lengths // stacking)[:, None])
    frames[2] = False  # an utterance with nothing selected
    frames[0, 0] = frames[0, T - 1] = True  # the first and last frame
    return encoder, feats, lengths, frames


@pytest.mark.parametrize("stacking,groups", [(1, None), (3, None), (1, 1)])
def test_last_hidden_at_equals_the_whole_last_layer_at_those_frames(stacking, groups):
    encoder, feats, lengths, frames = encoder_and_batch(stacking, groups)
    weights = torch.randn(int(frames.sum()), 32, generator=torch.Generator().manual_seed(9))

    full = encoder(feats, lengths).hidden_states[-1][frames]
    (full * weights).sum().backward()
    full_grads = [p.grad.clone() for p in encoder.parameters()]
    encoder.zero_grad()
    picked = encoder.last_hidden_at(feats, lengths, frames)
    (picked * weights).sum().backward()

    assert picked.shape == full.shape
    torch.testing.assert_close(picked, full, rtol=1e-5, atol=1e-5)
    for p, expected in zip(encoder.parameters(), full_grads):
        torch.testing.assert_close(p.grad, expected, rtol=1e-4, atol=1e-5)
    assert max(float(g.abs().max()) for g in full_grads) > 1e-2  # gradients are there to compare
