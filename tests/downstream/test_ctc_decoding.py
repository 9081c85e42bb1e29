"""CTC decoding against brute force: every frame path of a tiny utterance enumerated and collapsed."""

import itertools
import math

import pytest
import torch

from aalbert.downstream.ctc_decoding import beam_search_decode, greedy_decode, prefix_beam_search, sequence_log_prob

BLANK = 0


def collapse(path):
    out, previous = [], BLANK
    for p in path:
        if p != previous and p != BLANK:
            out.append(p)
        previous = p
    return tuple(out)


def brute_force(log_probs):
    """log P(sequence) for every sequence some path spells: the sum over all C**T paths."""
    frames, classes = log_probs.shape
    totals = {}
    for path in itertools.product(range(classes), repeat=frames):
        p = math.exp(sum(float(log_probs[t, c]) for t, c in enumerate(path)))
        key = collapse(path)
        totals[key] = totals.get(key, 0.0) + p
    return {seq: math.log(p) for seq, p in totals.items()}


def random_log_probs(seed, frames=5, classes=3, sharpness=2.0):
    generator = torch.Generator().manual_seed(seed)
    return torch.log_softmax(sharpness * torch.randn(frames, classes, generator=generator), -1)


def test_greedy_merges_repeats_and_drops_blanks():
    path = [0, 1, 1, 0, 1, 2, 2, 0, 0]  # 1 1 | 1 2 2: "1 1 2" (a blank separates the two 1s)
    log_probs = torch.full((1, len(path) + 2, 3), -5.0)
    for t, c in enumerate(path):
        log_probs[0, t, c] = 0.0
    log_probs[0, len(path) :, 2] = 0.0  # past the length: not decoded
    assert greedy_decode(log_probs, torch.tensor([len(path)])) == [[1, 1, 2]]


def test_sequence_log_prob_is_the_sum_over_paths():
    log_probs = random_log_probs(0)
    for seq, expected in brute_force(log_probs).items():
        assert sequence_log_prob(log_probs, list(seq)) == pytest.approx(expected, abs=1e-9), seq


def test_beam_one_is_greedy():
    generator = torch.Generator().manual_seed(1)
    log_probs = torch.log_softmax(torch.randn(4, 30, 6, generator=generator), -1)
    lengths = torch.tensor([30, 17, 1, 0])
    assert beam_search_decode(log_probs, lengths, beam_size=1) == greedy_decode(log_probs, lengths)


def test_an_unpruned_beam_finds_the_most_likely_sequence():
    for seed in range(20):
        log_probs = random_log_probs(seed, sharpness=1.0)
        exact = brute_force(log_probs)
        best = max(exact, key=exact.get)
        assert tuple(prefix_beam_search(log_probs, beam_size=3**5)) == best, seed


def test_a_wider_beam_never_finds_a_less_likely_sequence_than_greedy():
    better = 0
    for seed in range(60):
        log_probs = random_log_probs(seed, sharpness=1.0)
        exact = brute_force(log_probs)
        (greedy,) = greedy_decode(log_probs[None], torch.tensor([5]))
        for beam in (2, 3, 8):
            (found,) = beam_search_decode(log_probs[None], torch.tensor([5]), beam_size=beam)
            assert exact[tuple(found)] >= exact[tuple(greedy)] - 1e-12, (seed, beam)
            better += exact[tuple(found)] > exact[tuple(greedy)] + 1e-9
    assert better > 0  # on flat log-probs the best path often does not spell the best sequence: the beam helps


def test_beam_search_respects_lengths_and_empty_utterances():
    log_probs = random_log_probs(3, frames=6)[None].repeat(2, 1, 1)
    out = beam_search_decode(log_probs, torch.tensor([6, 0]), beam_size=3**6)  # unpruned: exact
    assert out[1] == []
    assert tuple(out[0]) == max(brute_force(log_probs[0]).items(), key=lambda kv: kv[1])[0]
