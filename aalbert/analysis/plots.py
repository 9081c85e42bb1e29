"""Figures of the analysis: attention JSD heatmap, probe accuracy per layer, featurizer weights.

    aalbert plots layer-weights EXPDIR [--out PNG]

draws the learned featurizer weights of a downstream experiment (its ``results.json``) with the
downstream package's own chart, so the two never disagree in style or meaning.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from aalbert.command_flags import add_debug_flag, command_parser
from aalbert.downstream.results import LAYER_WEIGHTS_PNG, RESULTS, plot_layer_weights, read_results
from aalbert.errors import BadInputError, MissingFileError, report_error


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


def layer_weights_from_results(expdir: str | Path) -> list[float]:
    """The featurizer weights a downstream run saved (``featurizer.layer_weights``, or top-level)."""
    results = read_results(expdir)
    if not results:
        raise MissingFileError(f"{Path(expdir) / RESULTS} not found: is {expdir} a finished downstream experiment?")
    weights = results.get("layer_weights")
    if weights is None:
        weights = (results.get("featurizer") or {}).get("layer_weights")
    if not weights:
        raise BadInputError(f"{Path(expdir) / RESULTS} holds no layer_weights")
    return [float(w) for w in weights]


def layer_weights_chart(expdir: str | Path, out: str | Path | None = None) -> Path:
    results = read_results(expdir)
    weights = layer_weights_from_results(expdir)
    upstream = (results.get("upstream") or {}).get("name", "")
    title = " / ".join(str(x) for x in (results.get("task"), upstream) if x)
    return plot_layer_weights(weights, out or Path(expdir) / LAYER_WEIGHTS_PNG, title)


def main(argv: list[str] | None = None) -> int:
    parser = command_parser(
        "aalbert plots",
        "Figures of finished experiments.",
        ["aalbert plots layer-weights result/downstream/phone_aalbert     # -> EXPDIR/layer_weights.png"],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lw = sub.add_parser("layer-weights", help="bar chart of a downstream experiment's learned featurizer weights")
    lw.add_argument("expdir", help="downstream experiment folder (holds results.json)")
    lw.add_argument("--out", default=None, help=f"PNG path (default EXPDIR/{LAYER_WEIGHTS_PNG})")
    add_debug_flag(lw)
    args = parser.parse_args(argv)
    try:
        path = layer_weights_chart(args.expdir, args.out)
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, "aalbert plots", args.debug)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
