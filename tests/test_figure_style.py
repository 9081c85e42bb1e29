"""The accuracy axis every figure shares: snapped to tens around every value, never a zoom on noise."""

import pytest

from aalbert.figure_style import chance_text, metric_text, percent_limits


@pytest.mark.parametrize(
    ("values", "limits"),
    [
        ([0.1], (0.0, 20.0)),  # one point: not 9.6-10.4
        ([0.612, 0.655, 0.187], (10.0, 70.0)),  # phone probes and their chance line
        ([0.95, 0.99], (80.0, 100.0)),  # never above 100
        ([0.0, 1.0], (0.0, 100.0)),
        ([], (0.0, 100.0)),
    ],
)
def test_percent_limits(values, limits):
    assert percent_limits(values) == limits


def test_words():
    assert metric_text("test accuracy", 0.6321) == "test accuracy 63.2%"
    assert metric_text("loss", 2.5) == "loss 2.5" and metric_text("per", None) == "per -"
    chance = {"class": "sil", "classes": 40, "uniform": 0.025}
    assert chance_text(chance) == "chance: always train's majority class 'sil' (1/40 classes = 2.5%)"
    assert chance_text({"class": None, "classes": 10, "uniform": 0.1}) == "chance: 1/10 classes"
