"""Speaker verification metrics from trial scores: the equal error rate and the minimum detection cost.

A trial pairs two utterances; its *label* is 1 when both have the same speaker (a target trial)
and 0 otherwise (a non-target trial); its *score* is how alike the system finds them (cosine
similarity of embeddings). A threshold ``t`` accepts the trials scoring ``>= t``:

* the miss rate ``P_miss(t)``: the target trials rejected (false rejections, FRR);
* the false-alarm rate ``P_fa(t)``: the non-target trials accepted (false acceptances, FAR).

Sweeping ``t`` from above the highest score down past the lowest visits every operating point the
scores allow, from (P_fa, P_miss) = (0, 1) to (1, 0). Tied scores move together: a tie is one step
of the sweep.

* :func:`equal_error_rate`: where P_miss = P_fa on the curve through those points, joined by straight
  lines (as the ROC interpolation of the VoxCeleb and SUPERB scorers does): trials tied at the crossing
  count as half accepted, half rejected, so all-equal scores give 0.5, perfectly separated scores 0 and
  reversed ones 1.
* :func:`min_dcf`: NIST's detection cost ``c_miss P_miss p_target + c_fa P_fa (1 - p_target)``, divided by
  the cost of the better trivial system (``min(c_miss p_target, c_fa (1 - p_target))``: accept or reject
  everything), minimised over the operating points; 0 is perfect and 1 is no better than always answering
  the same. VoxCeleb reports it at ``p_target = 0.01`` (``0.05`` in some years), ``c_miss = c_fa = 1``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from aalbert.errors import BadInputError

Scores = Sequence[float] | np.ndarray
Labels = Sequence[int] | np.ndarray
P_TARGET = 0.01
C_MISS = 1.0
C_FA = 1.0


def operating_points(scores: Scores, labels: Labels) -> tuple[np.ndarray, np.ndarray]:
    """``(p_fa, p_miss)``: the error rates at every threshold the scores allow, from accepting nothing
    (first: 0, 1) to accepting everything (last: 1, 0), one point per distinct score."""
    score, target = _checked(scores, labels)
    order = np.argsort(-score, kind="stable")
    score, target = score[order], target[order]
    # the last trial of each run of equal scores: a threshold at that score accepts the whole run
    ends = np.flatnonzero(np.r_[score[1:] != score[:-1], True])
    accepted_targets = np.cumsum(target)[ends]
    accepted_nontargets = np.cumsum(~target)[ends]
    n_target, n_nontarget = int(target.sum()), int((~target).sum())
    p_fa = np.r_[0.0, accepted_nontargets / n_nontarget]
    p_miss = np.r_[1.0, 1.0 - accepted_targets / n_target]
    return p_fa, p_miss


def equal_error_rate(scores: Scores, labels: Labels) -> float:
    """The rate at which misses and false alarms are equal (0 perfect, 0.5 chance, 1 reversed)."""
    p_fa, p_miss = operating_points(scores, labels)
    return crossing(p_fa, p_miss)


def crossing(p_fa: np.ndarray, p_miss: np.ndarray) -> float:
    """Where the curve through the points ``(p_fa, p_miss)`` (p_miss - p_fa falling from 1 to -1)
    meets p_miss = p_fa."""
    gap = p_miss - p_fa
    k = int(np.argmax(gap <= 0))  # the first point at or past the crossing (the last point's gap is -1)
    if gap[k] == 0 or k == 0:
        return float(p_fa[k])
    # between points k-1 (gap > 0) and k (gap < 0), both rates move linearly: they meet at fraction w
    w = gap[k - 1] / (gap[k - 1] - gap[k])
    return float(p_fa[k - 1] + w * (p_fa[k] - p_fa[k - 1]))


def min_dcf(
    scores: Scores, labels: Labels, p_target: float = P_TARGET, c_miss: float = C_MISS, c_fa: float = C_FA
) -> float:
    """The lowest normalised detection cost over the thresholds (0 perfect, 1 = a trivial system)."""
    if not 0 < p_target < 1 or c_miss <= 0 or c_fa <= 0:
        raise BadInputError(
            f"min_dcf needs 0 < p_target < 1 and positive costs, got p_target={p_target}, c_miss={c_miss}, c_fa={c_fa}"
        )
    p_fa, p_miss = operating_points(scores, labels)
    cost = c_miss * p_miss * p_target + c_fa * p_fa * (1 - p_target)
    return float(cost.min() / min(c_miss * p_target, c_fa * (1 - p_target)))


def _checked(scores: Scores, labels: Labels) -> tuple[np.ndarray, np.ndarray]:
    score = np.asarray(scores, dtype=np.float64).reshape(-1)
    label = np.asarray(labels).reshape(-1)
    if score.shape != label.shape:
        raise BadInputError(f"{len(score)} scores for {len(label)} trial labels")
    if not np.isfinite(score).all():
        raise BadInputError(f"{int((~np.isfinite(score)).sum())} trial score(s) are NaN or infinite")
    if not np.isin(label, (0, 1)).all():
        raise BadInputError("trial labels must be 1 (same speaker) or 0 (different speakers)")
    target = label.astype(bool)
    if target.all() or not target.any():
        raise BadInputError(
            f"verification needs target and non-target trials, got {int(target.sum())} target and "
            f"{int((~target).sum())} non-target"
        )
    return score, target
