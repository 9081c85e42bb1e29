"""results.json and the layer-weight chart of an experiment folder."""

from __future__ import annotations

import json
from pathlib import Path

from aalbert.atomic import write_text_atomic

RESULTS = "results.json"
LAYER_WEIGHTS_PNG = "layer_weights.png"


def read_results(expdir: str | Path) -> dict:
    path = Path(expdir) / RESULTS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_results(expdir: str | Path, results: dict) -> Path:
    return write_text_atomic(Path(expdir) / RESULTS, json.dumps(results, indent=2) + "\n")


def plot_layer_weights(weights: list[float], path: str | Path, title: str = "") -> Path:
    """Bar chart of the featurizer's weight per hidden state (0 = input representation)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(3.0, 0.5 * len(weights) + 1.5), 3.0))
    ax.bar(range(len(weights)), weights, color="tab:blue")
    ax.set_xticks(range(len(weights)))
    ax.set_xlabel("hidden state (0 = input representation)")
    ax.set_ylabel("softmax weight")
    ax.set_ylim(0, max(1e-6, max(weights)) * 1.15)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)
