import pytest
import torch

from aalbert.padding import valid_mask
from aalbert.pretrain.masking import corrupt, mask_batch, sample_span_mask, span_counts


def spans(row: torch.Tensor) -> list[int]:
    """Lengths of the runs of True in a 1-D bool tensor."""
    out, run = [], 0
    for v in row.tolist() + [False]:
        if v:
            run += 1
        elif run:
            out.append(run)
            run = 0
    return out


def test_proportion_and_span_lengths_over_many_draws():
    gen = torch.Generator().manual_seed(0)
    lengths = torch.tensor([400, 250, 137, 500])
    masked, valid = 0, 0
    for _ in range(200):
        mask = sample_span_mask(lengths, 500, 0.15, 7, gen)
        masked += int(mask.sum())
        valid += int(lengths.sum())
        for b in range(len(lengths)):
            runs = spans(mask[b])
            # non-overlapping spans of exactly 7 (touching spans merge into multiples of 7)
            assert all(r % 7 == 0 for r in runs), runs
            assert sum(runs) == int(span_counts(lengths[b : b + 1], 0.15, 7)[0]) * 7
    assert abs(masked / valid - 0.15) < 0.01


def test_padding_never_masked_and_short_utterances():
    gen = torch.Generator().manual_seed(1)
    lengths = torch.tensor([1, 3, 20, 60, 300])
    for _ in range(100):
        mask = sample_span_mask(lengths, 300, 0.15, 7, gen)
        assert not (mask & ~valid_mask(lengths, 300)).any()
        assert (mask.sum(1) >= 1).all()  # every utterance has something to predict
        assert mask[0, 0] and mask[1].sum() == 1  # short ones: one short span, not a 7-frame one


def test_span_starts_are_uniform_enough():
    # every valid position is masked sometimes, including the first and last frames
    gen = torch.Generator().manual_seed(2)
    lengths = torch.tensor([50])
    hits = torch.zeros(50)
    for _ in range(500):
        hits += sample_span_mask(lengths, 50, 0.15, 7, gen)[0].float()
    assert (hits > 0).all()
    # away from the edges (which only spans starting there cover) coverage is flat
    inner = hits[7:-7]
    assert inner.max() / inner.min() < 1.5


def test_80_10_10_split_over_many_utterances():
    gen = torch.Generator().manual_seed(3)
    B, T, D = 64, 40, 5
    modes = []
    for _ in range(60):
        x = torch.randn(B, T, D) + 10  # no frame is all zeros
        lengths = torch.randint(20, T + 1, (B,), generator=gen)
        out = mask_batch(x, lengths, 0.15, 7, generator=gen)
        valid = valid_mask(lengths, T)
        assert torch.equal(out.inputs[~out.mask], x[~out.mask])  # unmasked frames untouched
        for b in range(B):
            rows = out.inputs[b][out.mask[b]]
            if out.mode[b] == 0:
                assert (rows == 0).all()
            elif out.mode[b] == 1:
                # replacements are valid frames of the batch
                pool = x[valid]
                assert all((pool == r).all(1).any() for r in rows)
            else:
                assert torch.equal(rows, x[b][out.mask[b]])
        modes.append(out.mode)
    modes = torch.cat(modes)
    share = torch.bincount(modes, minlength=3).float() / modes.numel()
    assert torch.allclose(share, torch.tensor([0.8, 0.1, 0.1]), atol=0.03), share


def test_same_generator_state_same_masks():
    x = torch.randn(3, 30, 4)
    lengths = torch.tensor([30, 25, 12])
    a = mask_batch(x, lengths, 0.15, 7, generator=torch.Generator().manual_seed(9))
    b = mask_batch(x, lengths, 0.15, 7, generator=torch.Generator().manual_seed(9))
    c = mask_batch(x, lengths, 0.15, 7, generator=torch.Generator().manual_seed(10))
    assert torch.equal(a.inputs, b.inputs) and torch.equal(a.mask, b.mask)
    assert not torch.equal(a.mask, c.mask)


def test_corrupt_random_frames_never_come_from_padding():
    gen = torch.Generator().manual_seed(4)
    x = torch.zeros(2, 10, 3)
    x[0, :4] = 1.0  # valid frames of utterance 0 are ones; its padding stays zero
    x[1, :] = 1.0
    x[0, 4:] = -7.0  # padding values that must never be copied
    lengths = torch.tensor([4, 10])
    mask = valid_mask(lengths, 10)
    for _ in range(20):
        out = corrupt(x, lengths, mask, zero_prob=0.0, random_prob=1.0, generator=gen)
        assert (out.inputs[mask] == 1.0).all()


def test_bad_lengths_are_errors():
    with pytest.raises(ValueError, match="at least one valid frame"):
        sample_span_mask(torch.tensor([0, 5]), 5, 0.15, 7)
    with pytest.raises(ValueError, match="exceeds max_len"):
        sample_span_mask(torch.tensor([9]), 5, 0.15, 7)
