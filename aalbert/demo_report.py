"""The demo's table and figure: test accuracy per upstream, written to results.md / results.png.

The chance levels are the tasks' own (results.json ``chance``: always answering the training
split's most frequent class, aalbert.downstream.chance), drawn on both panels. ``aalbert plots
demo DIR`` redraws results.png from a finished demo folder (:func:`rows_from_demo`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from aalbert.errors import MissingFileError
from aalbert.figure_style import chance_line, chance_text, pyplot, save

PHONE_TASK = "phone_linear"
SPEAKER_TASK = "speaker_utterance"
BASELINE = "fbank"  # drawn first, in grey: the log-mel baseline the pretrained models are read against


class TableSettings(Protocol):
    """What the table's caption tells of a demo run (aalbert.demo.DemoSettings: the demo imports
    this module, so the settings are described here rather than imported back)."""

    speakers: int
    utterances: int
    min_words: int
    max_words: int
    pretrain_steps: int
    downstream_steps: int
    downstream_lr: float


@dataclass
class Row:
    upstream: str
    parameters: int
    phone_accuracy: float
    speaker_accuracy: float
    pretrain_seconds: float
    downstream_seconds: float
    phone_chance: dict | None = None  # results.json "chance" of the phone task
    speaker_chance: dict | None = None


def main_test_metric(results: dict) -> float:
    test = results["metrics"]["test"]
    return float(test[results["main_metric"]])


def chance_of(results: dict) -> dict | None:
    """A task's chance level from its results.json; results of a release before ``chance`` give
    1 / classes (speakers or phones of the data it used)."""
    if results.get("chance"):
        return results["chance"]
    data = results.get("data") or {}
    classes = data.get("phones") if "phone" in str(results.get("task")) else data.get("speakers")
    if not classes:
        return None
    return {"rule": "uniform", "class": None, "classes": classes, "uniform": 1 / classes, "test": 1 / classes}


def _chance_caption(row: Row) -> str:
    parts = []
    for task, chance in ((PHONE_TASK, row.phone_chance), (SPEAKER_TASK, row.speaker_chance)):
        if chance and chance.get("test") is not None:
            parts.append(f"{task} {chance['test']:.1%}")
    return f" Chance (train's majority class, on test): {', '.join(parts)}." if parts else ""


def write_table(rows: list[Row], out: Path, settings: TableSettings, total_seconds: float, reused: int = 0) -> str:
    lines = [
        f"Synthetic corpus: {settings.speakers} speakers x {settings.utterances} utterances of "
        f"{settings.min_words}-{settings.max_words} words; "
        f"pretraining {settings.pretrain_steps} steps; each task {settings.downstream_steps} steps "
        f"at lr {settings.downstream_lr:g} "
        f"(upstream frozen, weighted sum of layers). Test-split accuracy." + (_chance_caption(rows[0]) if rows else ""),
        "",
        "| upstream | parameters | phone accuracy | speaker accuracy | pretrain time | downstream time |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.upstream} | {r.parameters:,} | {r.phone_accuracy:.1%} | {r.speaker_accuracy:.1%} | "
            f"{r.pretrain_seconds:.0f} s | {r.downstream_seconds:.0f} s |"
        )
    lines += [
        "",
        f"Total wall time: {total_seconds / 60:.1f} min"
        + (f" ({reused} finished steps reused from an earlier run)." if reused else "."),
    ]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text, encoding="utf-8")
    plot_results(rows, out / "results.png")
    return text


def results_figure(rows: list[Row]) -> Any:
    """Two panels (phones, speakers): a bar per upstream, the value on it, the chance line; the
    y axis is 0-100% on both, so the panels and figures of other runs compare by eye."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 3.8))
    names = [r.upstream for r in rows]
    colours = ["0.6" if name == BASELINE else f"C{i}" for i, name in enumerate(names)]
    for ax, values, chance, task in (
        (axes[0], [r.phone_accuracy for r in rows], rows[0].phone_chance if rows else None, PHONE_TASK),
        (axes[1], [r.speaker_accuracy for r in rows], rows[0].speaker_chance if rows else None, SPEAKER_TASK),
    ):
        bars = ax.bar(names, [100 * v for v in values], color=colours, zorder=2)
        ax.bar_label(bars, fmt="%.1f", fontsize=8)
        ax.set_title(f"{task}: test accuracy (%)", fontsize=9)
        ax.set_ylim(0, 100)
        ax.grid(axis="y", alpha=0.3)
        if chance and chance.get("test") is not None:
            chance_line(ax, chance["test"], chance_text(chance))
            # below the panel: above it would cover the bars' values
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    fig.suptitle(
        "frozen upstreams, weighted sum of layers; parameters: "
        + ", ".join(f"{r.upstream} {f'{r.parameters / 1e6:.2f}M' if r.parameters else 0}" for r in rows),
        fontsize=9,
    )
    return fig


def plot_results(rows: list[Row], path: Path) -> Path:
    """:func:`results_figure` saved to ``path``."""
    return save(results_figure(rows), path)


def _step_seconds(expdir: Path) -> float:
    """A demo step's wall time, from the demo's marker beside its folder (0 when there is none)."""
    marker = expdir.with_name(expdir.name + ".step.json")
    return float(json.loads(marker.read_text()).get("wall_seconds", 0.0)) if marker.is_file() else 0.0


def rows_from_demo(out: str | Path) -> list[Row]:
    """The rows of a finished demo folder, read back from its experiments' results.json: the log-mel
    baseline first, then the other upstreams by name (the demo's own order)."""
    out = Path(out)
    found = sorted(p.parent.name[: -len(PHONE_TASK) - 1] for p in out.glob(f"downstream/*_{PHONE_TASK}/results.json"))
    upstreams = sorted(found, key=lambda name: (name != BASELINE, name))
    if not upstreams:
        raise MissingFileError(f"{out}/downstream holds no finished {PHONE_TASK} experiment: is {out} a demo folder?")
    rows = []
    for upstream in upstreams:
        tasks = {}
        for task in (PHONE_TASK, SPEAKER_TASK):
            path = out / "downstream" / f"{upstream}_{task}" / "results.json"
            if not path.is_file():
                raise MissingFileError(f"{path} not found: the demo in {out} did not finish {upstream}'s {task}")
            tasks[task] = json.loads(path.read_text(encoding="utf-8"))
        rows.append(
            Row(
                upstream,
                int(tasks[PHONE_TASK]["upstream"]["num_parameters"]),
                main_test_metric(tasks[PHONE_TASK]),
                main_test_metric(tasks[SPEAKER_TASK]),
                _step_seconds(out / "pretrain" / upstream),
                sum(_step_seconds(out / "downstream" / f"{upstream}_{task}") for task in tasks),
                chance_of(tasks[PHONE_TASK]),
                chance_of(tasks[SPEAKER_TASK]),
            )
        )
    return rows
