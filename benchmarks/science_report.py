"""Table and figures of ``benchmarks/science.py``: means and spreads over seeds, per layer and per step."""

from __future__ import annotations

import statistics
from pathlib import Path

from aalbert.demo_report import settings_phrase

BASELINE = "fbank"
TASK_TITLES = {"phone": "frame phone", "speaker": "utterance speaker"}
TASKS = tuple(TASK_TITLES)


def groups(runs: list[dict]) -> dict[tuple[str, int], list[dict]]:
    """Runs by (model, steps), in first-seen order (the baseline first)."""
    out: dict[tuple[str, int], list[dict]] = {}
    for r in runs:
        out.setdefault((r["model"], r["steps"]), []).append(r)
    return out


def mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for one value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values: list[float], signed: bool = False) -> str:
    """Percent (points with a sign, for differences), ``mean ± sd`` over seeds when there are several."""
    mean, sd = mean_sd(values)
    return (f"{100 * mean:+.1f}" if signed else f"{100 * mean:.1f}") + (f" ± {100 * sd:.1f}" if len(values) > 1 else "")


def layer_means(runs: list[dict], key: str) -> tuple[list[float], list[float]]:
    per_layer = list(zip(*[r[key] for r in runs]))
    stats = [mean_sd(list(v)) for v in per_layer]
    return [m for m, _ in stats], [s for _, s in stats]


def _caption(s: dict, setting_names: list[str]) -> str:
    return (
        f"Corpus {s['corpus']} ({s['format']}); recipe {s['recipe']}"
        + (f" with {' '.join(s['overrides'])}" if s["overrides"] else "")
        + (
            f"; checkpoints {', '.join(f'{k}={v}' for k, v in s['checkpoints'].items())}"
            if s.get("checkpoints")
            else ""
        )
        + f"; seeds {','.join(map(str, s['seeds']))}; linear probes (<= {s['probe_max_steps']} steps) on every "
        f"hidden state (0 = input representation); "
        + (
            "no weighted-sum tasks"
            if s["weighted_sum"] == "none"
            else f"weighted sum = {s['downstream_steps']}-step phone_linear / speaker_utterance at lr "
            f"{s['downstream_lr']:g}, trained {settings_phrase(setting_names)}, the one best on dev "
            "reported (log-mel's: log-mel at its best)"
        )
        + ". Test accuracy, %, mean ± sd over seeds."
    )


def _sum(rs: list[dict], task: str) -> str:
    if not all(f"{task}_sum" in r for r in rs):
        return "-"
    chosen = sorted({r.get(f"{task}_sum_setting", "as is") for r in rs})
    return f"{fmt([r[f'{task}_sum'] for r in rs])} ({', '.join(chosen)})"


def _sum_gain(rs: list[dict], base: list[dict], task: str) -> str:
    """Points over log-mel at its best (its mean over the seeds it was run with)."""
    if not base or not all(f"{task}_sum" in r for r in rs + base):
        return "-"
    reference = statistics.fmean(b[f"{task}_sum"] for b in base)
    return fmt([r[f"{task}_sum"] - reference for r in rs], signed=True)


def table(summary: dict) -> str:
    runs = summary["runs"]
    by = groups(runs)
    base = by.get((BASELINE, 0), [])
    base_phone = statistics.fmean(b["phone_probe"][0] for b in base) if base else None
    lines = [
        _caption(summary["settings"], _setting_names(runs)),
        "",
        "| model | steps | phone probe per layer | best layer | best - log-mel | phone weighted sum "
        "| vs log-mel at its best | speaker probe per layer | speaker weighted sum | vs log-mel at its best |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for (model, steps), rs in by.items():
        phone_mean, _ = layer_means(rs, "phone_probe")
        best = max(range(len(phone_mean)), key=phone_mean.__getitem__)
        per_layer = " / ".join(fmt([r["phone_probe"][i] for r in rs]) for i in range(len(phone_mean)))
        speaker = " / ".join(fmt([r["speaker_probe"][i] for r in rs]) for i in range(len(rs[0]["speaker_probe"])))
        gain = "" if base_phone is None else fmt([max(r["phone_probe"]) - base_phone for r in rs], signed=True)
        others = model != BASELINE
        lines.append(
            f"| {model} | {steps or '-'} | {per_layer} | {best} | {gain if others else ''} | {_sum(rs, 'phone')} "
            f"| {_sum_gain(rs, base, 'phone') if others else ''} | {speaker} | {_sum(rs, 'speaker')} "
            f"| {_sum_gain(rs, base, 'speaker') if others else ''} |"
        )
    lines += settings_table(by) + layer_table(by)
    lines += ["", f"Wall time: {summary['wall_seconds'] / 60:.1f} min (reused steps count as 0)."]
    return "\n".join(lines) + "\n"


def _setting_names(runs: list[dict]) -> list[str]:
    """The featurizer settings the weighted-sum tasks were trained in (a summary of an earlier
    release has fewer than SETTINGS; one without trials trained its tasks as is)."""
    for r in runs:
        if r.get("phone_sum_trials"):
            return [t["setting"] for t in r["phone_sum_trials"]]
    return ["as is"]


def settings_table(by: dict[tuple[str, int], list[dict]]) -> list[str]:
    """Every featurizer setting of the weighted-sum tasks, dev-best / test: the fair baseline rows."""
    rows = [(key, rs) for key, rs in by.items() if all("phone_sum_trials" in r for r in rs)]
    if not rows:
        return []
    names = [t["setting"] for t in rows[0][1][0]["phone_sum_trials"]]
    lines = [
        "",
        "Weighted-sum tasks in every featurizer setting, dev-best / test accuracy (%; mean over seeds); "
        "the reported one is the best on dev:",
        "",
        "| model | steps | " + " | ".join(f"{task}s, {n}" for task in TASKS for n in names) + " |",
        "| --- | ---: |" + " ---: |" * (len(TASKS) * len(names)),
    ]
    for (model, steps), rs in rows:
        cells = []
        for task in TASKS:
            for i in range(len(names)):
                dev = statistics.fmean(r[f"{task}_sum_trials"][i]["dev"] for r in rs)
                test = statistics.fmean(r[f"{task}_sum_trials"][i]["test"] for r in rs)
                cells.append(f"{100 * dev:.1f} / {100 * test:.1f}")
        lines.append(f"| {model} | {steps or '-'} | " + " | ".join(cells) + " |")
    return lines


def layer_table(by: dict[tuple[str, int], list[dict]]) -> list[str]:
    """Per hidden state: what a linear probe finds (phones, speakers) and the weight the chosen
    weighted sum gives it, so where phone and speaker information sits reads from one table."""
    lines = [
        "",
        "Per hidden state (0 = input representation): linear probe test accuracy (%) and the layer weight "
        "(softmax, of the weighted-sum run reported above; mean over seeds):",
        "",
        "| model | steps | hidden state | phone probe | phone weight | speaker probe | speaker weight |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for (model, steps), rs in by.items():
        for i in range(len(rs[0]["phone_probe"])):
            weights = {}
            for task in TASKS:
                found = [r.get(f"{task}_weights") for r in rs]
                weights[task] = (
                    f"{statistics.fmean(w[i] for w in found if w):.2f}" if all(w and len(w) > i for w in found) else "-"
                )
            lines.append(
                f"| {model} | {steps or '-'} | {i} | {fmt([r['phone_probe'][i] for r in rs])} | {weights['phone']} "
                f"| {fmt([r['speaker_probe'][i] for r in rs])} | {weights['speaker']} |"
            )
    return lines


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
