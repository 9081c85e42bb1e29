"""EER and minDCF against a brute-force sweep over every threshold, and hand-worked examples."""

from __future__ import annotations

import numpy as np
import pytest

from aalbert.downstream.metrics.verification import equal_error_rate, min_dcf, operating_points
from aalbert.errors import BadInputError


def brute_force_points(scores, labels):
    """(p_fa, p_miss) at t = +inf and at every distinct score, each counted trial by trial."""
    targets = [s for s, y in zip(scores, labels) if y == 1]
    nontargets = [s for s, y in zip(scores, labels) if y == 0]
    points = [(0.0, 1.0)]
    for t in sorted(set(scores), reverse=True):
        p_fa = sum(1 for s in nontargets if s >= t) / len(nontargets)
        p_miss = sum(1 for s in targets if s < t) / len(targets)
        points.append((p_fa, p_miss))
    return points


def brute_force_eer(scores, labels):
    """Where the polyline through the operating points crosses p_miss = p_fa, segment by segment."""
    points = brute_force_points(scores, labels)
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        # the segment (x0 + w dx, y0 + w dy), 0 <= w <= 1, meets y = x where y0 - x0 + w (dy - dx) = 0
        d0, d1 = y0 - x0, y1 - x1
        if d0 == 0:
            return x0
        if d0 > 0 >= d1:
            w = d0 / (d0 - d1)
            return x0 + w * (x1 - x0)
    raise AssertionError("the curve never crosses p_miss = p_fa")


def brute_force_min_dcf(scores, labels, p_target=0.01, c_miss=1.0, c_fa=1.0):
    costs = [c_miss * pm * p_target + c_fa * pf * (1 - p_target) for pf, pm in brute_force_points(scores, labels)]
    return min(costs) / min(c_miss * p_target, c_fa * (1 - p_target))


@pytest.mark.parametrize("seed", range(12))
def test_eer_and_min_dcf_match_a_sweep_over_every_threshold(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(4, 60))
    labels = rng.integers(0, 2, n)
    labels[:2] = [0, 1]  # both kinds of trial
    # coarse scores on half the seeds: many ties, across and within the two kinds
    scores = labels * rng.uniform(0, 1.5) + rng.standard_normal(n)
    if seed % 2:
        scores = np.round(scores, 1)
    scores, labels = scores.tolist(), labels.tolist()
    p_fa, p_miss = operating_points(scores, labels)
    expected = brute_force_points(scores, labels)
    assert p_fa.tolist() == pytest.approx([pf for pf, _ in expected])
    assert p_miss.tolist() == pytest.approx([pm for _, pm in expected])
    assert equal_error_rate(scores, labels) == pytest.approx(brute_force_eer(scores, labels), abs=1e-12)
    for p_target in (0.01, 0.05, 0.5):
        assert min_dcf(scores, labels, p_target) == pytest.approx(
            brute_force_min_dcf(scores, labels, p_target), abs=1e-12
        )
    assert min_dcf(scores, labels, 0.2, c_miss=3, c_fa=2) == pytest.approx(
        brute_force_min_dcf(scores, labels, 0.2, 3, 2), abs=1e-12
    )


def test_perfectly_separated_scores_make_no_errors():
    scores, labels = [0.9, 0.8, 0.7, 0.1, -0.2], [1, 1, 1, 0, 0]
    assert equal_error_rate(scores, labels) == 0.0
    assert min_dcf(scores, labels) == 0.0


def test_reversed_scores_are_always_wrong():
    scores, labels = [0.9, 0.8, 0.1, -0.2], [0, 0, 1, 1]
    assert equal_error_rate(scores, labels) == 1.0
    # no threshold beats the trivial systems: the cost is theirs
    assert min_dcf(scores, labels) == 1.0


def test_all_tied_scores_are_chance():
    assert equal_error_rate([0.3] * 6, [1, 0, 1, 0, 0, 0]) == 0.5
    assert min_dcf([0.3] * 6, [1, 0, 1, 0, 0, 0]) == 1.0


def test_hand_worked_example_with_a_tie_across_the_kinds():
    # targets 0.9, 0.5; non-targets 0.5, 0.1. Points: (0,1), (0,1/2) at 0.9, (1/2,0) at the tie 0.5, (1,0).
    # The tie is the segment from (0, 1/2) to (1/2, 0): it meets p_miss = p_fa at 1/4.
    scores, labels = [0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]
    assert equal_error_rate(scores, labels) == pytest.approx(0.25)
    # p_target 0.5, costs 1: normalised cost = p_miss + p_fa; best 1/2 (at 0.9 or at the tie)
    assert min_dcf(scores, labels, p_target=0.5) == pytest.approx(0.5)
    # p_target 0.01: accepting only 0.9 costs 0.01 * 1/2 / 0.01 = 0.5
    assert min_dcf(scores, labels) == pytest.approx(0.5)


def test_one_error_in_four_each_way():
    # 4 targets, 4 non-targets, one of each on the wrong side: EER 1/4
    scores = [0.9, 0.8, 0.7, 0.2, 0.6, 0.3, 0.1, 0.0]
    labels = [1, 1, 1, 1, 0, 0, 0, 0]
    assert equal_error_rate(scores, labels) == pytest.approx(0.25)


def test_order_of_the_trials_does_not_matter():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 40)
    labels[:2] = [0, 1]
    scores = np.round(labels + rng.standard_normal(40), 1)
    perm = rng.permutation(40)
    assert equal_error_rate(scores, labels) == equal_error_rate(scores[perm], labels[perm])
    assert min_dcf(scores, labels) == min_dcf(scores[perm], labels[perm])


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([0.1, 0.2], [1, 1], "non-target"),
        ([0.1, 0.2], [0, 0], "target"),
        ([0.1, 0.2], [0, 2], "1 (same speaker)"),
        ([0.1], [0, 1], "1 scores for 2"),
        ([0.1, float("nan")], [0, 1], "NaN"),
    ],
)
def test_bad_trials_are_errors(scores, labels, message):
    with pytest.raises(BadInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        equal_error_rate(scores, labels)


def test_bad_costs_are_errors():
    with pytest.raises(BadInputError, match="p_target"):
        min_dcf([0.1, 0.2], [0, 1], p_target=0)
