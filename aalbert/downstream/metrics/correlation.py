"""Agreement between predictions and targets over a whole split (utterance regression).

Each function takes the split's predictions and targets as two lists (what a regression head's
counts concatenate to over batches, so the figures do not depend on how the split was batched).
Degenerate input has a defined result rather than NaN, because these figures are logged on single
training batches and pick the best checkpoint: an empty split gives 0.0 for every metric, and a
correlation with a constant side (every target, or every prediction, the same) gives 0.0 - no
linear or monotone relation can be measured, and 0.0 is what "no relation" scores (scipy returns
NaN there and warns).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aalbert.errors import BadInputError

Values = Sequence[float] | np.ndarray  # a list of floats (counts) or an array


def _pair(predictions: Values, targets: Values) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(predictions, dtype=np.float64).reshape(-1)
    y = np.asarray(targets, dtype=np.float64).reshape(-1)
    if x.shape != y.shape:
        raise BadInputError(f"{len(x)} predictions for {len(y)} targets: a regression head returns one per target")
    return x, y


def pearson(predictions: Values, targets: Values) -> float:
    """Pearson's linear correlation coefficient; 0.0 when empty or either side is constant."""
    x, y = _pair(predictions, targets)
    # exact equality, not a tolerance: the mean of equal floats may differ from them by rounding,
    # which would turn a constant side into a correlation of +-1 with noise
    if len(x) < 2 or np.all(x == x[0]) or np.all(y == y[0]):
        return 0.0
    dx, dy = x - x.mean(), y - y.mean()
    norm = float(np.sqrt((dx * dx).sum() * (dy * dy).sum()))
    return float(np.clip((dx * dy).sum() / norm, -1.0, 1.0)) if norm > 0 else 0.0


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n; tied values share the average of the ranks they span (as scipy.stats.rankdata)."""
    order = np.argsort(values, kind="mergesort")
    ordered = values[order]
    ranks = np.empty(len(values), dtype=np.float64)
    start = 0
    while start < len(ordered):
        stop = start + 1
        while stop < len(ordered) and ordered[stop] == ordered[start]:
            stop += 1
        ranks[order[start:stop]] = (start + 1 + stop) / 2  # mean of the ranks start+1 .. stop
        start = stop
    return ranks


def spearman(predictions: Values, targets: Values) -> float:
    """Spearman's rank correlation: Pearson's over average ranks (ties share their mean rank);
    0.0 when empty or either side is constant."""
    x, y = _pair(predictions, targets)
    return pearson(average_ranks(x), average_ranks(y))


def mse(predictions: Values, targets: Values) -> float:
    """Mean squared error; 0.0 when empty."""
    x, y = _pair(predictions, targets)
    return float(((x - y) ** 2).mean()) if len(x) else 0.0


def mae(predictions: Values, targets: Values) -> float:
    """Mean absolute error; 0.0 when empty."""
    x, y = _pair(predictions, targets)
    return float(np.abs(x - y).mean()) if len(x) else 0.0


def regression_metrics(predictions: Values, targets: Values) -> dict[str, float]:
    """pearson, spearman, mse and mae of a whole split."""
    return {
        "pearson": pearson(predictions, targets),
        "spearman": spearman(predictions, targets),
        "mse": mse(predictions, targets),
        "mae": mae(predictions, targets),
    }
