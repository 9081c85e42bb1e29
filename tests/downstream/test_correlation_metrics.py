"""The regression metrics against their references: scipy.stats for the correlations, numpy for the errors."""

import warnings

import numpy as np
import pytest
from scipy import stats

from aalbert.downstream.metrics.correlation import average_ranks, mae, mse, pearson, regression_metrics, spearman
from aalbert.errors import BadInputError


def _cases():
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    yield "noisy linear", x, 2 * x + rng.normal(size=50)
    yield "anti-correlated", x, -(x**3)
    yield "independent", rng.normal(size=30), rng.normal(size=30)
    # ties on both sides: scipy's spearmanr ranks ties by their average rank
    yield "ties", rng.integers(0, 4, size=40).astype(float), rng.integers(0, 3, size=40).astype(float)
    yield "two points", np.array([1.0, 2.0]), np.array([5.0, 3.0])
    yield "large offset", 1e6 + rng.normal(size=20), rng.normal(size=20)


@pytest.mark.parametrize(("name", "x", "y"), list(_cases()), ids=[c[0] for c in _cases()])
def test_metrics_match_scipy_and_numpy(name, x, y):
    assert pearson(list(x), list(y)) == pytest.approx(stats.pearsonr(x, y).statistic, abs=1e-9)
    assert spearman(list(x), list(y)) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-9)
    assert mse(list(x), list(y)) == pytest.approx(np.mean((x - y) ** 2), rel=1e-12)
    assert mae(list(x), list(y)) == pytest.approx(np.mean(np.abs(x - y)), rel=1e-12)


def test_average_ranks_are_scipys_rankdata():
    values = np.array([3.0, 1.0, 3.0, 2.0, 3.0, 1.0])
    assert average_ranks(values).tolist() == stats.rankdata(values).tolist() == [5.0, 1.5, 5.0, 3.0, 5.0, 1.5]


def test_spearman_is_invariant_to_monotone_transforms_where_pearson_is_not():
    x = np.linspace(0.1, 5, 30)
    assert spearman(x, np.exp(x)) == pytest.approx(1.0)
    assert pearson(x, np.exp(x)) < 0.9


def test_degenerate_input_is_zero_not_nan():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning from a division by zero either
        # constant predictions (a head that has collapsed) or constant targets: no relation to measure
        assert pearson([0.1, 0.1, 0.1], [1.0, 2.0, 3.0]) == 0.0
        assert spearman([1.0, 2.0, 3.0], [7.0, 7.0, 7.0]) == 0.0
        assert regression_metrics([], []) == {"pearson": 0.0, "spearman": 0.0, "mse": 0.0, "mae": 0.0}
        assert pearson([1.0], [2.0]) == 0.0  # one point: no correlation
        assert mse([1.0], [3.0]) == 4.0 and mae([1.0], [3.0]) == 2.0


def test_regression_metrics_and_mismatched_lengths():
    metrics = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 4.0])
    assert set(metrics) == {"pearson", "spearman", "mse", "mae"}
    assert (
        metrics["spearman"] == 1.0 and metrics["mse"] == pytest.approx(1 / 3) and metrics["mae"] == pytest.approx(1 / 3)
    )
    with pytest.raises(BadInputError, match="2 predictions for 3 targets"):
        pearson([1.0, 2.0], [1.0, 2.0, 3.0])
