"""layer_weights.png: learned weights as bars with the task's metric in the title; a fixed layer as
a note, never a bar."""

import pytest

from aalbert.downstream.layer_weights_figure import featurizer_of, layer_weights_figure, plot_layer_weights
from aalbert.errors import BadInputError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def results(featurizer: dict) -> dict:
    return {
        "task": "phone_linear",
        "main_metric": "accuracy",
        "metrics": {"test": {"accuracy": 0.632}, "dev_best": {"accuracy": 0.641, "step": 200}},
        "upstream": {"name": "aalbert_local", "label": "aalbert_local (states-300.ckpt)"},
        "featurizer": featurizer,
        "chance": {"class": "sil", "classes": 40, "uniform": 0.025, "test": 0.187},
    }


def test_weighted_sum_draws_each_weight_and_the_uniform_start(tmp_path):
    weights = [0.1, 0.4, 0.3, 0.2]
    fig = layer_weights_figure(results({"mode": "weighted_sum", "layer": None, "layer_weights": weights}))
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.patches] == pytest.approx(weights)
    (uniform,) = [line for line in ax.lines if line.get_label().startswith("uniform")]
    assert list(uniform.get_ydata()) == pytest.approx([0.25, 0.25])
    assert ax.get_ylim()[1] >= 0.4 * 1.2 - 1e-9  # the tallest bar and its label fit
    title = ax.get_title()
    assert "phone_linear / aalbert_local (states-300.ckpt)" in title
    assert "test accuracy 63.2%" in title and "best dev 64.1%" in title and "chance 18.7%" in title
    path = plot_layer_weights(results({"mode": "weighted_sum", "layer_weights": weights}), tmp_path / "w.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_a_fixed_layer_draws_no_bar_but_says_which_state(tmp_path):
    fixed = results({"mode": "hidden_states", "layer": 2, "layer_weights": [0.0, 0.0, 1.0, 0.0]})
    ax = layer_weights_figure(fixed).axes[0]
    assert len(ax.patches) == 0  # a one-hot bar would read as a learned preference
    (note,) = ax.texts
    assert "hidden state 2 only" in note.get_text() and "no weights were learned" in note.get_text()
    assert ax.get_xticklabels()[2].get_fontweight() == "bold"
    assert "test accuracy 63.2%" in ax.get_title()


def test_older_and_incomplete_results():
    assert featurizer_of({"layer_weights": [0.5, 0.5]})["mode"] == "weighted_sum"  # top-level: older files
    with pytest.raises(BadInputError, match="exp/results.json holds no layer_weights"):
        featurizer_of({"task": "x"}, "exp/results.json")
    title = layer_weights_figure({"featurizer": {"layer_weights": [1.0]}, "task": "t"}).axes[0].get_title()
    assert title == "t"  # no metric recorded: the title says only what it knows
