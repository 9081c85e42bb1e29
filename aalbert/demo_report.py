"""The demo's table and figure: test accuracy per upstream, written to results.md / results.png.

Every upstream, the log-mel baseline included, trains each task in every featurizer setting of
SETTINGS: the hidden states as they are, with ``featurizer.layer_norm=true`` (each frame normalised
over its dimensions) and with ``featurizer.cmvn=true`` (each utterance's frames normalised per
dimension: on fbank, log-mel with per-utterance CMVN), and reports the run whose *dev* accuracy is
highest (:func:`choose_on_dev`): the same chances for every row, and the test split never picks what
it scores. ``fbank``'s row is then "log-mel at its best".

The chance levels are the tasks' own (results.json ``chance``: always answering the training
split's most frequent class, aalbert.downstream.chance), drawn on both panels. ``aalbert plots
demo DIR`` redraws results.png from a finished demo folder (:func:`rows_from_demo`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aalbert.errors import BadInputError, MissingFileError
from aalbert.figure_style import chance_line, chance_text, pyplot, save

PHONE_TASK = "phone_linear"
SPEAKER_TASK = "speaker_utterance"
BASELINE = "fbank"  # drawn first, in grey: the log-mel baseline the pretrained models are read against
# the featurizer settings every upstream is trained with -> its experiment folder's suffix; on a tie
# on dev the first wins (the hidden states as they are)
SETTINGS = {"as is": "", "layer norm": "_ln", "cmvn": "_cmvn"}
SETTING_OVERRIDES = {"as is": [], "layer norm": ["featurizer.layer_norm=true"], "cmvn": ["featurizer.cmvn=true"]}


def settings_phrase(names: list[str] | None = None) -> str:
    """Settings (default: all of SETTINGS) in words, for captions: 'as is, with featurizer.layer_norm=true
    and with featurizer.cmvn=true'."""
    parts = [
        "with " + " ".join(SETTING_OVERRIDES[name]) if SETTING_OVERRIDES.get(name) else name
        for name in (names if names is not None else list(SETTINGS))
    ]
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0]


@dataclass
class Trial:
    """One task trained on one upstream under one featurizer setting."""

    setting: str  # a key of SETTINGS
    dev: float  # the dev-best main metric: what the choice reads
    test: float  # what the table reports for the chosen trial
    layer_weights: list[float] | None = None  # the weighted sum's softmax weights, hidden state 0 first


def trial_of(results: dict, setting: str, where: str | Path = "results.json") -> Trial:
    """A finished experiment's results.json (read from ``where``) as a :class:`Trial`."""
    metric = results["main_metric"]
    dev = (results["metrics"].get("dev_best") or {}).get(metric)
    if dev is None:
        raise BadInputError(f"{where}: no dev-best {metric} to choose the featurizer setting on")
    weights = (results.get("featurizer") or {}).get("layer_weights")
    return Trial(setting, float(dev), main_test_metric(results), weights)


def choose_on_dev(trials: list[Trial]) -> Trial:
    """The trial with the highest dev score (a tie: the earlier one). Test scores play no part, so
    reporting the chosen trial's test score is an unbiased estimate for every upstream alike."""
    if not trials:
        raise ValueError("no trials to choose from")
    return max(trials, key=lambda t: t.dev)  # max keeps the first of equal keys


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
    # every setting tried; the accuracies above are those of the one chosen on dev
    phone_trials: list[Trial] = field(default_factory=list)
    speaker_trials: list[Trial] = field(default_factory=list)

    @property
    def phone_setting(self) -> str:
        return choose_on_dev(self.phone_trials).setting if self.phone_trials else "as is"

    @property
    def speaker_setting(self) -> str:
        return choose_on_dev(self.speaker_trials).setting if self.speaker_trials else "as is"


def chosen_row(
    upstream: str,
    parameters: int,
    phone_trials: list[Trial],
    speaker_trials: list[Trial],
    pretrain_seconds: float,
    downstream_seconds: float,
    phone_chance: dict | None = None,
    speaker_chance: dict | None = None,
) -> Row:
    """A row reporting, per task, the test accuracy of the setting chosen on dev."""
    return Row(
        upstream,
        parameters,
        choose_on_dev(phone_trials).test,
        choose_on_dev(speaker_trials).test,
        pretrain_seconds,
        downstream_seconds,
        phone_chance,
        speaker_chance,
        phone_trials,
        speaker_trials,
    )


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


def _points(value: float, base: float | None) -> str:
    return "-" if base is None else f"{100 * (value - base):+.1f}"


def _trial_cell(trials: list[Trial], setting: str) -> str:
    """``dev / test`` of one setting, in bold when it is the one chosen on dev."""
    found = [t for t in trials if t.setting == setting]
    if not found:
        return "-"
    cell = f"{100 * found[0].dev:.1f} / {100 * found[0].test:.1f}"
    return f"**{cell}**" if choose_on_dev(trials) is found[0] and len(trials) > 1 else cell


def write_table(rows: list[Row], out: Path, settings: TableSettings, total_seconds: float, reused: int = 0) -> str:
    base = next((r for r in rows if r.upstream == BASELINE), None)
    lines = [
        f"Synthetic corpus: {settings.speakers} speakers x {settings.utterances} utterances of "
        f"{settings.min_words}-{settings.max_words} words; "
        f"pretraining {settings.pretrain_steps} steps; each task {settings.downstream_steps} steps "
        f"at lr {settings.downstream_lr:g} "
        f"(upstream frozen, weighted sum of layers), trained {settings_phrase()}: per task the one "
        f"with the highest dev accuracy is reported, so fbank's row is log-mel at its best. Test-split accuracy."
        + (_chance_caption(rows[0]) if rows else ""),
        "",
        "| upstream | parameters | phone accuracy | speaker accuracy | phones vs log-mel | speakers vs log-mel "
        "| setting chosen on dev (phones / speakers) | pretrain time | downstream time |",
        "| --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in rows:
        other = base if base is not None and r is not base else None
        lines.append(
            f"| {r.upstream} | {r.parameters:,} | {r.phone_accuracy:.1%} | {r.speaker_accuracy:.1%} | "
            f"{_points(r.phone_accuracy, other.phone_accuracy if other else None)} | "
            f"{_points(r.speaker_accuracy, other.speaker_accuracy if other else None)} | "
            f"{r.phone_setting} / {r.speaker_setting} | "
            f"{r.pretrain_seconds:.0f} s | {r.downstream_seconds:.0f} s |"
        )
    if any(r.phone_trials or r.speaker_trials for r in rows):
        lines += [
            "",
            "Every setting, dev-best / test accuracy (%); the one chosen on dev in bold:",
            "",
            "| upstream | "
            + " | ".join(f"phones, {k}" for k in SETTINGS)
            + " | "
            + " | ".join(f"speakers, {k}" for k in SETTINGS)
            + " |",
            "| --- |" + " ---: |" * (2 * len(SETTINGS)),
        ]
        for r in rows:
            cells = [_trial_cell(r.phone_trials, k) for k in SETTINGS]
            cells += [_trial_cell(r.speaker_trials, k) for k in SETTINGS]
            lines.append(f"| {r.upstream} | " + " | ".join(cells) + " |")
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
        ax.set_ylim(0, 108)  # headroom for the value labels of bars near 100 %
        ax.grid(axis="y", alpha=0.3)
        if chance and chance.get("test") is not None:
            chance_line(ax, chance["test"], chance_text(chance))
            # below the panel: above it would cover the bars' values
            ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), frameon=False)
    fig.suptitle(
        "frozen upstreams, weighted sum of layers (as is, layer norm or CMVN: the best on dev)\nparameters: "
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
    baseline first, then the other upstreams by name (the demo's own order). Each task's folder
    ``{upstream}_{task}`` and its twins of the other settings, ``{upstream}_{task}_ln`` and
    ``{upstream}_{task}_cmvn`` (when there: demos of earlier releases trained fewer settings), are the
    trials the row chooses from on dev."""
    out = Path(out)
    found = sorted(p.parent.name[: -len(PHONE_TASK) - 1] for p in out.glob(f"downstream/*_{PHONE_TASK}/results.json"))
    upstreams = sorted(found, key=lambda name: (name != BASELINE, name))
    if not upstreams:
        raise MissingFileError(f"{out}/downstream holds no finished {PHONE_TASK} experiment: is {out} a demo folder?")
    rows = []
    for upstream in upstreams:
        trials: dict[str, list[Trial]] = {}
        first: dict[str, dict] = {}
        seconds = 0.0
        for task in (PHONE_TASK, SPEAKER_TASK):
            trials[task] = []
            for setting, suffix in SETTINGS.items():
                expdir = out / "downstream" / f"{upstream}_{task}{suffix}"
                path = expdir / "results.json"
                if not path.is_file():
                    if not suffix:
                        raise MissingFileError(
                            f"{path} not found: the demo in {out} did not finish {upstream}'s {task}"
                        )
                    continue
                results = json.loads(path.read_text(encoding="utf-8"))
                first.setdefault(task, results)
                trials[task].append(trial_of(results, setting, path))
                seconds += _step_seconds(expdir)
        rows.append(
            chosen_row(
                upstream,
                int(first[PHONE_TASK]["upstream"]["num_parameters"]),
                trials[PHONE_TASK],
                trials[SPEAKER_TASK],
                _step_seconds(out / "pretrain" / upstream),
                seconds,
                chance_of(first[PHONE_TASK]),
                chance_of(first[SPEAKER_TASK]),
            )
        )
    return rows
