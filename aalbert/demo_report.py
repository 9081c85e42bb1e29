"""The demo's table and figure: test accuracy per upstream, written to results.md / results.png."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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


def main_test_metric(results: dict) -> float:
    test = results["metrics"]["test"]
    return float(test[results["main_metric"]])


def write_table(rows: list[Row], out: Path, settings: TableSettings, total_seconds: float, reused: int = 0) -> str:
    lines = [
        f"Synthetic corpus: {settings.speakers} speakers x {settings.utterances} utterances of "
        f"{settings.min_words}-{settings.max_words} words; "
        f"pretraining {settings.pretrain_steps} steps; each task {settings.downstream_steps} steps "
        f"at lr {settings.downstream_lr:g} "
        f"(upstream frozen, weighted sum of layers). Test-split accuracy; speaker chance "
        f"{1 / settings.speakers:.1%}.",
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
    _plot(rows, out / "results.png", speaker_chance=1 / settings.speakers)
    return text


def _plot(rows: list[Row], path: Path, speaker_chance: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    names = [r.upstream for r in rows]
    for ax, values, title in (
        (axes[0], [r.phone_accuracy for r in rows], "phone_linear"),
        (axes[1], [r.speaker_accuracy for r in rows], "speaker_utterance"),
    ):
        bars = ax.bar(names, [100 * v for v in values], color=["tab:gray", "tab:blue", "tab:orange"][: len(rows)])
        ax.bar_label(bars, fmt="%.1f")
        ax.set_title(f"{title} (test accuracy, %)")
        ax.set_ylim(0, 105)
    axes[1].axhline(100 * speaker_chance, color="k", linestyle="--", linewidth=1)
    axes[1].annotate(
        "chance", (0.99, 100 * speaker_chance), xycoords=("axes fraction", "data"), ha="right", va="bottom", fontsize=8
    )
    fig.suptitle(
        "frozen upstreams on the synthetic corpus; parameters: "
        + ", ".join(f"{r.upstream} {r.parameters / 1e6:.2f}M" for r in rows),
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
