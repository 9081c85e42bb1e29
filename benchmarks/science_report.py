"""Table and figures of ``benchmarks/science.py``: means and spreads over seeds, per layer and per step."""

from __future__ import annotations

import statistics
from pathlib import Path

BASELINE = "fbank"
TASK_TITLES = {"phone": "frame phone", "speaker": "utterance speaker"}


def groups(runs: list[dict]) -> dict[tuple[str, int], list[dict]]:
    """Runs by (model, steps), in first-seen order (the baseline first)."""
    out: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        out.setdefault((r["model"], r["steps"]), []).append(r)
    return out


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values: list[float]) -> str:
    """Percent, ``mean ± sd`` over seeds when there are several."""
    mean, sd = mean_sd(values)
    return f"{100 * mean:.1f}" + (f" ± {100 * sd:.1f}" if len(values) > 1 else "")


def layer_means(runs: list[dict], key: str) -> tuple[list[float], list[float]]:
    per_layer = list(zip(*[r[key] for r in runs]))
    stats = [mean_sd(list(v)) for v in per_layer]
    return [m for m, _ in stats], [s for _, s in stats]


def table(summary: dict) -> str:
    runs = summary["runs"]
    by = groups(runs)
    base = by.get((BASELINE, 0), [])
    base_phone = base[0]["phone_probe"][0] if base else None
    s = summary["settings"]
    lines = [
        f"Corpus {s['corpus']} ({s['format']}); recipe {s['recipe']}"
        + (f" with {' '.join(s['overrides'])}" if s["overrides"] else "")
        + f"; seeds {','.join(map(str, s['seeds']))}; linear probes (<= {s['probe_max_steps']} steps) on every "
        f"hidden state (0 = input representation); "
        + (
            "no weighted-sum tasks"
            if s["weighted_sum"] == "none"
            else f"weighted sum = {s['downstream_steps']}-step phone_linear / speaker_utterance at lr "
            f"{s['downstream_lr']:g}"
        )
        + ". Test accuracy, %, mean ± sd over seeds.",
        "",
        "| model | steps | phone probe per layer | best layer | best - log-mel | phone weighted sum "
        "| speaker probe per layer | speaker weighted sum |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for (model, steps), rs in by.items():
        phone_mean, _ = layer_means(rs, "phone_probe")
        best = max(range(len(phone_mean)), key=phone_mean.__getitem__)
        per_layer = " / ".join(fmt([r["phone_probe"][i] for r in rs]) for i in range(len(phone_mean)))
        speaker = " / ".join(fmt([r["speaker_probe"][i] for r in rs]) for i in range(len(rs[0]["speaker_probe"])))
        gain = "" if base_phone is None else fmt([max(r["phone_probe"]) - base_phone for r in rs])
        sums = {
            t: fmt([r[f"{t}_sum"] for r in rs]) if all(f"{t}_sum" in r for r in rs) else "-"
            for t in ("phone", "speaker")
        }
        lines.append(
            f"| {model} | {steps or '-'} | {per_layer} | {best} | {gain} | {sums['phone']} | {speaker} "
            f"| {sums['speaker']} |"
        )
    lines += ["", f"Wall time: {summary['wall_seconds'] / 60:.1f} min (reused steps count as 0)."]
    return "\n".join(lines) + "\n"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    return plt


def plot_layers(summary: dict, path: Path) -> Path:
    """Accuracy against hidden state, one line per (model, steps); log-mel as a dashed line."""
    plt = _pyplot()
    by = groups(summary["runs"])
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, task in zip(axes, ("phone", "speaker")):
        for (model, steps), rs in by.items():
            mean, sd = layer_means(rs, f"{task}_probe")
            if model == BASELINE:
                ax.axhline(100 * mean[0], color="k", linestyle="--", linewidth=1, label="log-mel (fbank)")
                continue
            ax.errorbar(
                range(len(mean)),
                [100 * m for m in mean],
                yerr=[100 * v for v in sd],
                marker="o",
                capsize=3,
                label=f"{model} {steps} steps",
            )
        ax.set_xticks(range(max(len(rs[0][f"{task}_probe"]) for rs in by.values())))
        ax.set_xlabel("hidden state (0 = input representation)")
        ax.set_ylabel("test accuracy, %")
        ax.set_title(f"linear probe: {TASK_TITLES[task]}", fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_steps(summary: dict, path: Path) -> Path:
    """Best-layer probe accuracy minus log-mel's, against pretraining steps, per model."""
    plt = _pyplot()
    by = groups(summary["runs"])
    base = by[(BASELINE, 0)][0]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, task in zip(axes, ("phone", "speaker")):
        for model in dict.fromkeys(m for m, _ in by if m != BASELINE):
            steps = sorted(st for m, st in by if m == model)
            stats = [
                mean_sd([max(r[f"{task}_probe"]) - base[f"{task}_probe"][0] for r in by[(model, st)]]) for st in steps
            ]
            ax.errorbar(
                steps, [100 * m for m, _ in stats], yerr=[100 * s for _, s in stats], marker="o", capsize=3, label=model
            )
        ax.axhline(0, color="k", linestyle="--", linewidth=1)
        ax.set_xscale("log")
        ax.set_xlabel("pretraining steps")
        ax.set_ylabel("best layer - log-mel, points")
        ax.set_title(f"linear probe: {TASK_TITLES[task]}", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_report(summary: dict, out: Path) -> str:
    text = table(summary)
    (out / "science.md").write_text(text, encoding="utf-8")
    plot_layers(summary, out / "science_layers.png")
    if len(summary["settings"]["steps"]) > 1:
        plot_steps(summary, out / "science_steps.png")
    return text
