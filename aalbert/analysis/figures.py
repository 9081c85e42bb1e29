"""The attention JSD heatmap (``attention_jsd.png``; the probe figure: probe_figure.py). Torch-free:
matplotlib is imported only when a figure is drawn."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aalbert.figure_style import pyplot, save

LN2 = math.log(2)  # the JSD's bound in nats (jsd.LN2; not imported from there: jsd.py imports torch)


def colour_top(matrix: Sequence[Sequence[float]]) -> float:
    """The colour scale's top: the largest JSD between two different layers. The bound ln 2 as the
    top would draw a trained model's matrix (values of a few hundredths) uniformly dark; the
    diagonal (a layer against itself, 0 by definition) does not set the scale."""
    off = [v for i, row in enumerate(matrix) for j, v in enumerate(row) if i != j and math.isfinite(v)]
    top = max(off, default=0.0)
    return top if top > 0 else LN2


def jsd_figure(matrix: Sequence[Sequence[float]], labels: Sequence[str], title: str = "") -> Any:
    """Annotated L x L heatmap, like the Audio ALBERT paper's JSD figure; the colour range is
    [0, largest off-diagonal value], printed on the colour bar with the bound ln 2 beside it."""
    n = len(labels)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise ValueError(f"matrix must be {n} x {n} to match the {n} labels")
    plt = pyplot()
    size = max(4.2, 0.6 * n + 2.0)  # tall enough for the colour bar's label
    fig, ax = plt.subplots(figsize=(size + 1.3, size))
    top = colour_top(matrix)
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=top)
    cbar = fig.colorbar(image, ax=ax)
    cbar.set_label(f"JSD, nats (scale 0 to {top:.2g}; at most ln 2 = {LN2:.2f})", fontsize=8)
    short = [label.replace("layer ", "") for label in labels]
    ax.set_xticks(range(n), short)
    ax.set_yticks(range(n), short)
    ax.set_xlabel("layer")
    ax.set_ylabel("layer")
    # small fonts on big matrices so the numbers stay inside their cells
    fontsize = 8 if n <= 6 else 6 if n <= 12 else 4
    fmt = "{:.3f}" if top >= 0.05 else "{:.2g}"  # small JSDs (a few 1e-3) keep two significant digits
    for i in range(n):
        for j in range(n):
            value = matrix[i][j]
            ax.text(
                j,
                i,
                "0" if value == 0 else fmt.format(value),
                ha="center",
                va="center",
                fontsize=fontsize,
                color="white" if value < 0.55 * top else "black",  # dark cells of viridis get white text
            )
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def plot_jsd_heatmap(
    matrix: Sequence[Sequence[float]], labels: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """:func:`jsd_figure` saved to ``path``."""
    return save(jsd_figure(matrix, labels, title), path)


def jsd_title(upstream: str, utterances: int, speakers: int | None) -> str:
    """The heatmap's title: the upstream and what it was measured on (speakers: unknown for the JSON
    of a release that did not record them)."""
    sample = f"{utterances} utterances" + (f" of {speakers} speakers" if speakers is not None else "")
    return f"attention JSD between layers: {upstream}\n{sample}"
