"""``layer_weights.png``: which hidden states a downstream task used, drawn from its results.json
(the runner draws it after the test evaluation; ``aalbert plots downstream EXPDIR`` redraws it).

A weighted sum (``-s weighted_sum``, the default) has learned one softmax weight per hidden state:
bars, with the uniform weight the training started from. A fixed selection (``-l N``, ``-s last``)
learned nothing: no bars (a one-hot bar would read as a learned preference), a note saying which
state was used. The title carries the task's test metric, so the figure stands alone in a paper.
Torch-free: matplotlib only when drawing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aalbert.errors import BadInputError
from aalbert.figure_style import metric_text, pyplot, save


def featurizer_of(results: dict, where: str = "results.json") -> dict:
    """The featurizer as results.json (``where``) holds it (``featurizer``; a top-level
    ``layer_weights`` of older files is a weighted sum)."""
    featurizer = dict(results.get("featurizer") or {})
    if results.get("layer_weights") is not None:
        featurizer = {"mode": "weighted_sum", **featurizer, "layer_weights": results["layer_weights"]}
    if not featurizer.get("layer_weights"):
        raise BadInputError(
            f"{where} holds no layer_weights (featurizer.layer_weights): evaluate the experiment again (-m evaluate -e EXPDIR)"
        )
    featurizer.setdefault("mode", "weighted_sum")
    return featurizer


def title_of(results: dict) -> str:
    """``task / upstream`` and the test metric (with dev and the chance level when known)."""
    upstream = results.get("upstream") or {}
    who = " / ".join(str(x) for x in (results.get("task"), upstream.get("label") or upstream.get("name")) if x)
    metric = results.get("main_metric")
    metrics = results.get("metrics") or {}
    if not metric:
        return who
    parts = [metric_text(f"test {metric}", (metrics.get("test") or {}).get(metric))]
    dev = (metrics.get("dev_best") or {}).get(metric)
    if dev is not None:
        parts.append(metric_text("best dev", dev))
    chance = results.get("chance")
    if chance and chance.get("test") is not None:
        parts.append(metric_text("chance", chance["test"]))
    return f"{who}\n{', '.join(parts)}"


def plot_layer_weights(results: dict, path: str | Path) -> Path:
    """:func:`layer_weights_figure` saved to ``path``."""
    return save(layer_weights_figure(results), path)


def layer_weights_figure(results: dict) -> Any:
    """The matplotlib figure: bars of the learned weights, or the note of a fixed layer."""
    featurizer = featurizer_of(results)
    weights = [float(w) for w in featurizer["layer_weights"]]
    states = range(len(weights))
    plt = pyplot()
    # wide enough for the title's two lines (task / upstream, metrics)
    fig, ax = plt.subplots(figsize=(max(4.8, 0.45 * len(weights) + 2.0), 3.4))
    ax.set_xticks(list(states))
    ax.set_xlim(-0.6, len(weights) - 0.4)
    ax.set_xlabel("hidden state (0 = input representation)")
    if featurizer["mode"] == "weighted_sum":
        uniform = 1.0 / len(weights)
        bars = ax.bar(states, weights, color="tab:blue", zorder=2)
        for label in ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=3):
            label.set_bbox({"facecolor": "white", "edgecolor": "none", "pad": 0.5})  # readable over the uniform line
        ax.axhline(uniform, color="0.35", linestyle=":", linewidth=1.2, label=f"uniform 1/{len(weights)} (start)")
        ax.set_ylim(0, max(2 * uniform, max(weights) * 1.2))
        ax.set_ylabel("learned softmax weight")
        ax.legend(fontsize=7, loc="upper right")
    else:
        layer = featurizer.get("layer")
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            f"fixed selection ({featurizer['mode']}): hidden state {layer} only\nno weights were learned",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
        )
        if layer is not None:
            ax.get_xticklabels()[int(layer)].set_fontweight("bold")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title_of(results), fontsize=9)
    return fig
