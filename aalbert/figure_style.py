"""What every figure of the toolkit shares: matplotlib without a display, the chance line, the
accuracy axis and how a metric is written (torch-free; matplotlib is imported only when a figure is
drawn). The figures themselves live with their data: downstream/layer_weights_figure.py,
analysis/figures.py, analysis/probe_figure.py, demo_report.py."""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

DPI = 150  # sharp enough for a paper's column width at the figures' 3-4 inch height
CHANCE_STYLE = {"color": "0.35", "linestyle": ":", "linewidth": 1.2}


def pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    return plt


def save(fig: Any, path: str | Path) -> Path:
    """Tight layout (unless the figure has its own layout engine), a PNG at :data:`DPI`, the figure
    closed (a long analysis draws many)."""
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    pyplot().close(fig)
    return Path(path)


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


def metric_text(name: str, value: float | None) -> str:
    """``accuracy 63.2%`` for a share (accuracy, error rates), else the number itself."""
    if value is None:
        return f"{name} -"
    return f"{name} {percent(value)}" if 0.0 <= value <= 1.0 else f"{name} {value:.4g}"


def percent_limits(values: Iterable[float], step: float = 10.0, min_span: float = 20.0) -> tuple[float, float]:
    """Y limits in percent for accuracies (given as shares) and chance levels: snapped to ``step``
    outside every value, at least ``min_span`` wide, inside [0, 100]. Snapped rather than automatic,
    so one point or a flat curve does not fill the axis with noise (0.096-0.104), and the chance
    line drawn with the values is always in view."""
    shown = [100 * v for v in values if v is not None and math.isfinite(v)]
    if not shown:
        return 0.0, 100.0
    low = max(0.0, math.floor((min(shown) - 2.0) / step) * step)
    high = min(100.0, math.ceil((max(shown) + 2.0) / step) * step)
    if high - low < min_span:  # widen upwards first: accuracies near chance read against more room above
        high = min(100.0, low + min_span)
        low = max(0.0, high - min_span)
    return low, high


def chance_line(ax: Any, share: float, label: str) -> Any:
    """A horizontal line at ``share`` (drawn in percent), labelled for the legend, its value written
    at its right end (dev and test panels have their own)."""
    line = ax.axhline(100 * share, label=label, zorder=3, **CHANCE_STYLE)  # over bars, not hidden by them
    ax.annotate(
        percent(share),
        (0.99, 100 * share),
        xycoords=("axes fraction", "data"),
        ha="right",
        va="bottom",
        fontsize=7,
        color=CHANCE_STYLE["color"],
        zorder=4,
        bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},  # readable over a bar
    )
    return line


def chance_text(chance: dict) -> str:
    """A legend's words for a chance level (aalbert.downstream.chance.chance_levels): which rule,
    which class."""
    uniform = f"1/{chance['classes']} classes"
    if chance.get("class") is None:  # only the number of classes is known (an older results.json)
        return f"chance: {uniform}"
    return f"chance: always train's majority class '{chance['class']}' ({uniform} = {percent(chance['uniform'])})"
