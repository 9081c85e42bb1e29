"""probe_accuracy.png: several upstreams and log-mel in one figure, dev and test, the chance line."""

import pytest

from aalbert.analysis.probe_figure import plot_probe_accuracy, probe_accuracy_figure
from aalbert.errors import BadInputError

CHANCE = {"class": "sil", "classes": 40, "uniform": 0.025, "dev": 0.21, "test": 0.187}


def run(name: str, num_layers: int, test: list[float], probes=("linear",), task="phone") -> dict:
    rows = [
        {"layer": layer, "probe": probe, "dev_accuracy": value + 0.01, "test_accuracy": value - 0.02 * depth}
        for layer, value in enumerate(test)
        for depth, probe in enumerate(probes)
    ]
    upstream = {"name": name, "num_layers": num_layers, "label": name}
    return {"task": task, "metric": "accuracy", "upstream": upstream, "rows": rows, "chance": CHANCE}


def lines(ax) -> dict:
    return {line.get_label(): line for line in ax.lines}


def test_upstreams_log_mel_and_chance_share_both_panels(tmp_path):
    runs = [
        run("aalbert", 3, [0.62, 0.65, 0.63, 0.60], probes=("linear", "1hidden")),
        run("mockingjay", 3, [0.61, 0.66, 0.64, 0.61]),
        run("fbank", 0, [0.58]),
    ]
    fig = probe_accuracy_figure(runs)
    dev, test = fig.axes
    assert (dev.get_title(), test.get_title()) == ("dev (best epoch)", "test")
    assert dev.get_ylim() == test.get_ylim() == (10.0, 70.0)  # snapped tens holding every value and chance
    assert test.get_xlim() == pytest.approx((-0.3, 3.3)) and list(test.get_xticks()) == [0, 1, 2, 3]
    drawn = lines(test)
    assert len(drawn) == 5  # aalbert x 2 probes, mockingjay, log-mel, chance
    assert list(drawn["aalbert, 1hidden"].get_ydata()) == pytest.approx([60.0, 63.0, 61.0, 58.0])
    assert list(lines(dev)["mockingjay, linear"].get_ydata()) == pytest.approx([62.0, 67.0, 65.0, 62.0])
    log_mel = drawn["log-mel (fbank), linear"]  # one hidden state: a line across every layer
    assert list(log_mel.get_xdata()) == pytest.approx([-0.3, 3.3]) and list(log_mel.get_ydata()) == pytest.approx(
        [58.0, 58.0]
    )
    (chance,) = [line for label, line in drawn.items() if label.startswith("chance")]
    assert list(chance.get_ydata()) == pytest.approx([18.7, 18.7])  # the test split's own chance
    assert [t.get_text() for t in test.texts] == ["18.7%"]
    dev_chance = [line for label, line in lines(dev).items() if label.startswith("chance")]
    assert list(dev_chance[0].get_ydata()) == pytest.approx([21.0, 21.0])
    assert "majority class 'sil'" in chance.get_label()
    assert plot_probe_accuracy(runs, tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_one_run_one_probe_names_no_probe_and_keeps_a_sensible_axis():
    fig = probe_accuracy_figure([run("aalbert", 3, [0.10, 0.10, 0.10, 0.10])])
    dev, test = fig.axes
    assert "aalbert" in lines(test) and test.get_ylim() == (0.0, 30.0)  # not 9.6-10.4; dev chance 21%


def test_runs_of_different_tasks_do_not_share_a_figure():
    with pytest.raises(BadInputError, match="different tasks"):
        probe_accuracy_figure([run("a", 3, [0.5] * 4), run("b", 3, [0.5] * 4, task="speaker")])
    with pytest.raises(BadInputError, match="no probe runs"):
        probe_accuracy_figure([])
