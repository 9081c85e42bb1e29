"""benchmarks/science_report.py: the fair baseline rows (every featurizer setting, the reported one
chosen on dev) and the per-layer table of probes and layer weights, from a made-up summary."""

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("science_report", BENCHMARKS / "science_report.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("science_report", module)
    spec.loader.exec_module(module)
    return module


def trials(as_is: tuple[float, float], normed: tuple[float, float], weights: list[float]) -> list[dict]:
    return [
        {"setting": "as is", "dev": as_is[0], "test": as_is[1], "layer_weights": weights},
        {"setting": "layer norm", "dev": normed[0], "test": normed[1], "layer_weights": weights},
    ]


def run(model, steps, seed, phone_probe, speaker_probe, phone, speaker, weights):
    """``phone`` / ``speaker``: (as is, layer norm) pairs of (dev, test); the reported one is the better on dev."""
    entry = {"model": model, "steps": steps, "seed": seed, "phone_probe": phone_probe, "speaker_probe": speaker_probe}
    for task, pair in (("phone", phone), ("speaker", speaker)):
        t = trials(*pair, weights)
        best = max(t, key=lambda x: x["dev"])
        entry.update(
            {
                f"{task}_sum_trials": t,
                f"{task}_sum": best["test"],
                f"{task}_sum_setting": best["setting"],
                f"{task}_weights": weights,
            }
        )
    return entry


def summary() -> dict:
    settings = {
        "corpus": "synth40",
        "format": "librispeech",
        "recipe": "tiny.yaml",
        "overrides": [],
        "seeds": [0, 1],
        "probe_max_steps": 10,
        "weighted_sum": "last",
        "downstream_steps": 400,
        "downstream_lr": 0.01,
        "steps": [1000],
    }
    # log-mel: layer norm wins speakers on dev (0.95 test), as is wins phones on dev
    base = run("fbank", 0, 0, [0.60], [0.90], ((0.58, 0.57), (0.57, 0.60)), ((0.60, 0.65), (0.96, 0.95)), [1.0])
    models = [
        run(
            "aalbert",
            1000,
            seed,
            [0.62, 0.64 + seed / 100, 0.61],
            [0.97, 0.90, 0.80],
            ((0.66, 0.64), (0.60, 0.70)),
            ((0.88, 0.90 + seed / 100), (0.80, 0.99)),
            [0.5, 0.3, 0.2],
        )
        for seed in (0, 1)
    ]
    return {"settings": settings, "tag": "t", "wall_seconds": 60.0, "runs": [base, *models]}


def test_the_weighted_sums_are_read_against_log_mel_at_its_best(report):
    text = report.table(summary())
    fbank = [line for line in text.splitlines() if line.startswith("| fbank | - | 60.0 |")][0]
    # log-mel reports its dev choices (as is: 57.0 on phones; layer norm: 95.0 on speakers), not the test-best
    assert "| 57.0 (as is) |" in fbank and "| 95.0 (layer norm) |" in fbank
    # aalbert: as is on both (better on dev, though layer norm is better on test), 64 - 57 and 90.5 - 95
    row = [line for line in text.splitlines() if line.startswith("| aalbert | 1000 | 62.0")][0]
    assert "| 64.0 ± 0.0 (as is) | +7.0 ± 0.0 |" in row and "| 90.5 ± 0.7 (as is) | -4.5 ± 0.7 |" in row


def test_every_setting_is_printed_dev_and_test(report):
    text = report.table(summary())
    assert "| model | steps | phones, as is | phones, layer norm | speakers, as is | speakers, layer norm |" in text
    assert "| fbank | - | 58.0 / 57.0 | 57.0 / 60.0 | 60.0 / 65.0 | 96.0 / 95.0 |" in text


def test_per_layer_probes_sit_beside_the_layer_weights(report):
    text = report.table(summary())
    assert "| aalbert | 1000 | 0 | 62.0 ± 0.0 | 0.50 | 97.0 ± 0.0 | 0.50 |" in text
    assert "| aalbert | 1000 | 1 | 64.5 ± 0.7 | 0.30 | 90.0 ± 0.0 | 0.30 |" in text
    assert "| fbank | - | 0 | 60.0 | 1.00 | 90.0 | 1.00 |" in text


def test_a_summary_without_weighted_sums_still_reports_the_probes(report):
    s = summary()
    for r in s["runs"]:
        for key in [k for k in r if "_sum" in k or k.endswith("_weights")]:
            del r[key]
    text = report.table(s)
    assert "phones, as is" not in text
    assert "| aalbert | 1000 | 2 | 61.0 ± 0.0 | - | 80.0 ± 0.0 | - |" in text
