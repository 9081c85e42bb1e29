"""``probe_accuracy.png``: probing accuracy per hidden state of one or several probing runs in one
figure, dev and test side by side (``aalbert probe`` draws its own run; ``aalbert plots probe DIR
...`` draws several runs together, e.g. two pretrained models and log-mel).

Each run is what probe_results.json holds. A colour per run, a line style per probe (linear,
1hidden, 2hidden). An upstream without layers (``fbank``: log-mel, one hidden state) is drawn as
a horizontal line across the layers: the baseline every layer is read against. The chance level
is the majority class of the training split, as a share of each split's frames or utterances
(aalbert.downstream.chance). The y axis is in percent, snapped to tens around every value and the
chance line (figure_style.percent_limits): the same axis for dev and test. Torch-free.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aalbert.errors import BadInputError
from aalbert.figure_style import chance_line, chance_text, percent_limits, pyplot, save

PROBE_STYLES = {"linear": ("-", "o"), "1hidden": ("--", "s"), "2hidden": ("-.", "^")}
SPLITS = (("dev", "dev (best epoch)"), ("test", "test"))
BASELINE_COLOUR = "black"


def is_baseline(run: dict) -> bool:
    """A run of an upstream without layers (log-mel): its one hidden state is the input itself."""
    return (run.get("upstream") or {}).get("num_layers") == 0


def run_label(run: dict) -> str:
    upstream = run.get("upstream") or {}
    label = upstream.get("label") or upstream.get("name") or "?"
    return f"log-mel ({label})" if is_baseline(run) and "fbank" in label else label


def _common(runs: Sequence[dict], key: str) -> str:
    values = sorted({str(run.get(key)) for run in runs})
    if len(values) != 1:
        raise BadInputError(f"probe runs of different {key}s ({', '.join(values)}) do not share a figure")
    return values[0]


def probes_of(run: dict) -> list[str]:
    """The run's probes in the order its rows give them."""
    return list(dict.fromkeys(str(row["probe"]) for row in run["rows"]))


def curve(run: dict, probe: str, split: str, metric: str) -> tuple[list[int], list[float]]:
    rows = sorted((r for r in run["rows"] if r["probe"] == probe), key=lambda r: int(r["layer"]))
    return [int(r["layer"]) for r in rows], [float(r[f"{split}_{metric}"]) for r in rows]


def chances(runs: Sequence[dict], split: str) -> list[dict]:
    """The runs' distinct chance levels for ``split`` (one, when they probed the same data)."""
    seen: dict[tuple, dict] = {}
    for run in runs:
        chance = run.get("chance")
        if chance and chance.get(split) is not None:
            seen.setdefault((chance["class"], round(float(chance[split]), 4)), chance)
    return list(seen.values())


def probe_accuracy_figure(runs: Sequence[dict], title: str = "") -> Any:
    """The figure of ``runs`` (probe_results.json payloads of one task and metric)."""
    if not runs:
        raise BadInputError("no probe runs to draw")
    task, metric = _common(runs, "task"), _common(runs, "metric")
    layered = [r for r in runs if not is_baseline(r)]
    states = sorted({int(row["layer"]) for r in layered for row in r["rows"]}) or [0]
    x_range = (states[0] - 0.3, states[-1] + 0.3)
    several_probes = len({p for r in runs for p in probes_of(r)}) > 1
    plt = pyplot()
    # constrained: the legend goes below both panels, and the layout makes room for it
    fig, axes = plt.subplots(1, 2, figsize=(max(7.0, 3.0 + 0.7 * len(states)), 4.6), sharey=True, layout="constrained")
    shown: list[float] = []
    colours = iter(plt.rcParams["axes.prop_cycle"].by_key()["color"])
    run_colours = {id(r): BASELINE_COLOUR if is_baseline(r) else next(colours) for r in runs}
    for ax, (split, heading) in zip(axes, SPLITS):
        for run in runs:
            for probe in probes_of(run):
                linestyle, marker = PROBE_STYLES.get(probe, (":", "x"))
                layers, values = curve(run, probe, split, metric)
                label = run_label(run) + (f", {probe}" if several_probes else "")
                colour = run_colours[id(run)]
                if is_baseline(run):  # its one value across every layer, read against each
                    ax.plot(x_range, [100 * values[0]] * 2, color=colour, linestyle=linestyle, label=label)
                else:
                    ax.plot(
                        layers, [100 * v for v in values], color=colour, linestyle=linestyle, marker=marker, label=label
                    )
                shown += values
        for chance in chances(runs, split):
            chance_line(ax, chance[split], chance_text(chance))
            shown.append(chance[split])
        ax.set_title(heading, fontsize=9)
        ax.set_xticks(states)
        ax.set_xlim(*x_range)
        ax.set_xlabel("hidden state (0 = input representation)")
        ax.grid(alpha=0.3)
    axes[0].set_ylim(*percent_limits(shown))
    axes[0].set_ylabel(f"{metric} (%)")
    handles, labels = axes[1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=min(2, len(labels)), fontsize=7, frameon=False)
    fig.suptitle(title or f"{task} probing: {metric} per hidden state", fontsize=10)
    return fig


def plot_probe_accuracy(runs: Sequence[dict], path: str | Path, title: str = "") -> Path:
    """:func:`probe_accuracy_figure` saved to ``path``."""
    return save(probe_accuracy_figure(runs, title), path)
