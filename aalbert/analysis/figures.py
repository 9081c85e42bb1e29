"""The analysis figures: the attention JSD heatmap and probe accuracy per layer (matplotlib is
imported only when a figure is drawn)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, ax, path: str | Path, title: str) -> Path:
    """The analysis figures' common finish: small title, tight layout, 120 dpi PNG, figure closed."""
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_jsd_heatmap(
    matrix: Sequence[Sequence[float]], labels: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Annotated L x L heatmap with a colorbar, like the Audio ALBERT paper's JSD figure."""
    plt = _pyplot()
    n = len(labels)
    if len(matrix) != n or any(len(row) != n for row in matrix):
        raise ValueError(f"matrix must be {n} x {n} to match the {n} labels")
    size = max(3.5, 0.6 * n + 2.0)
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    top = max((v for row in matrix for v in row), default=0.0)
    # one fixed scale, [0, ln 2] (the JSD's range in nats), so heatmaps of models compare by eye
    image = ax.imshow(matrix, cmap="viridis", vmin=0.0, vmax=math.log(2))
    cbar = fig.colorbar(image, ax=ax)
    cbar.set_label("JSD (nats; at most ln 2 = 0.693)")
    short = [label.replace("layer ", "") for label in labels]
    ax.set_xticks(range(n), short)
    ax.set_yticks(range(n), short)
    ax.set_xlabel("layer")
    ax.set_ylabel("layer")
    # small fonts on big matrices so the numbers stay inside their cells
    fontsize = 8 if n <= 6 else 6 if n <= 12 else 4
    # near-uniform attention (e.g. random weights) gives tiny values that 3 decimals would hide
    fmt = "{:.3f}" if top >= 0.05 else "{:.1e}"
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
                color="white" if value < 0.5 * math.log(2) else "black",
            )
    return _save(plt, fig, ax, path, title)


def plot_probe_curves(
    curves: Mapping[str, Sequence[float]],
    layers: Sequence[int],
    path: str | Path,
    ylabel: str = "test accuracy",
    title: str = "",
) -> Path:
    """One line per probe (e.g. linear / 1hidden / 2hidden): accuracy against hidden-state index."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(layers) + 2.5), 3.5))
    for name, values in curves.items():
        if len(values) != len(layers):
            raise ValueError(f"probe {name}: {len(values)} values for {len(layers)} layers")
        ax.plot(list(layers), list(values), marker="o", label=name)
    ax.set_xticks(list(layers))
    ax.set_xlabel("hidden state (0 = input representation)")
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend()
    return _save(plt, fig, ax, path, title)
