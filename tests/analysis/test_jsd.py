import math

import pytest
import torch

from aalbert.analysis.jsd import LN2, JSDAccumulator, entropy, jsd, utterance_jsd_sums


def random_attention(layers: int, heads: int, length: int, seed: int = 0, sharpness: float = 3.0):
    gen = torch.Generator().manual_seed(seed)
    return [(sharpness * torch.randn(heads, length, length, generator=gen)).softmax(-1) for _ in range(layers)]


def pad_attention(maps: list[torch.Tensor], max_len: int, junk: float = 7.0) -> list[torch.Tensor]:
    """Pad (heads, T, T) maps to max_len with junk (not zeros): padding must be ignored, not merely small."""
    out = []
    for a in maps:
        heads, t, _ = a.shape
        padded = torch.full((heads, max_len, max_len), junk)
        padded[:, :t, :t] = a
        out.append(padded)
    return out


def test_hand_computed_pair():
    p = torch.tensor([0.5, 0.5])
    q = torch.tensor([1.0, 0.0])
    m = [0.75, 0.25]
    # KL form, independent of the entropy form the code uses: JSD = (KL(p||m) + KL(q||m)) / 2
    expected = 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])) + 0.5 * (1.0 * math.log(1.0 / m[0]))
    assert expected == pytest.approx(0.215762, abs=1e-6)
    assert jsd(p, q).item() == pytest.approx(expected, abs=1e-6)


def test_disjoint_supports_reach_ln2_and_identical_give_zero():
    p = torch.tensor([1.0, 0.0, 0.0])
    q = torch.tensor([0.0, 0.3, 0.7])
    assert jsd(p, q).item() == pytest.approx(LN2, abs=1e-6)
    assert jsd(q, q).item() == 0.0
    assert entropy(torch.tensor([0.25] * 4)).item() == pytest.approx(math.log(4), abs=1e-6)


def test_symmetric_nonnegative_bounded_on_random_rows():
    gen = torch.Generator().manual_seed(1)
    p = (5 * torch.randn(200, 17, generator=gen)).softmax(-1)
    q = (5 * torch.randn(200, 17, generator=gen)).softmax(-1)
    d_pq, d_qp = jsd(p, q), jsd(q, p)
    assert torch.allclose(d_pq, d_qp)
    assert (d_pq >= 0).all() and (d_pq <= LN2 + 1e-6).all()
    assert d_pq.mean() > 0.05  # random sharp rows genuinely differ


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="same shape"):
        jsd(torch.ones(3) / 3, torch.ones(4) / 4)


def test_hand_computed_layer_matrix():
    # 2 layers, 1 head, 2 query positions over 2 keys
    layer0 = torch.tensor([[[1.0, 0.0], [0.5, 0.5]]])
    layer1 = torch.tensor([[[0.5, 0.5], [0.5, 0.5]]])
    acc = JSDAccumulator(2)
    acc.add_batch([layer0[None], layer1[None]], torch.tensor([2]))
    # query 0: JSD([1,0],[.5,.5]) = 0.215762 (the pair above); query 1: identical rows -> 0
    expected = (0.215762 + 0.0) / 2
    matrix = acc.matrix()
    assert matrix[0, 1].item() == pytest.approx(expected, abs=1e-6)
    assert matrix[1, 0].item() == pytest.approx(expected, abs=1e-6)
    assert matrix[0, 0].item() == 0.0 and matrix[1, 1].item() == 0.0


def test_matrix_properties_on_random_layers():
    maps = random_attention(layers=4, heads=3, length=9)
    sums = utterance_jsd_sums(maps)
    matrix = sums / 9
    assert torch.equal(matrix, matrix.T)
    assert torch.all(matrix.diagonal() == 0)
    off = matrix[~torch.eye(4, dtype=torch.bool)]
    assert (off > 0).all() and (off <= LN2).all()


def test_identical_layers_give_zero():
    maps = random_attention(layers=1, heads=2, length=6)
    sums = utterance_jsd_sums([maps[0], maps[0].clone(), maps[0]])
    assert torch.all(sums == 0)


def test_padding_is_excluded_and_utterances_weighted_by_queries():
    short = random_attention(layers=3, heads=2, length=4, seed=1)
    long = random_attention(layers=3, heads=2, length=7, seed=2)
    # the long utterance with the short one padded beside it: the same pooled matrix as computing
    # them separately and weighting by query counts, and the junk padding never enters
    batched = JSDAccumulator(3)
    padded_short = pad_attention(short, 7)
    batched.add_batch([torch.stack([s, lg]) for s, lg in zip(padded_short, long)], torch.tensor([4, 7]))
    expected = (utterance_jsd_sums(short) + utterance_jsd_sums(long)) / (4 + 7)
    assert torch.allclose(batched.matrix(), expected, atol=1e-12)
    assert batched.queries == 11 and batched.utterances == 2


def test_accumulator_errors():
    acc = JSDAccumulator(2)
    with pytest.raises(ValueError, match="no utterances"):
        acc.matrix()
    maps = random_attention(layers=2, heads=1, length=3)
    with pytest.raises(ValueError, match="2 layers"):
        acc.add_batch([maps[0][None]], torch.tensor([3]))
    with pytest.raises(ValueError, match="length 5"):
        acc.add_batch([a[None] for a in maps], torch.tensor([5]))
    with pytest.raises(ValueError, match="at least one layer"):
        JSDAccumulator(0)
