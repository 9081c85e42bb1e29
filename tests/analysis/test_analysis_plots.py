import json

import pytest

from aalbert.analysis.plots import layer_weights_from_results, main, plot_jsd_heatmap, plot_probe_curves

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_results(expdir, payload):
    expdir.mkdir(parents=True, exist_ok=True)
    (expdir / "results.json").write_text(json.dumps(payload))
    return expdir


def test_layer_weights_command_reads_the_runner_layout(tmp_path, capsys):
    # the downstream runner stores them under featurizer.layer_weights
    expdir = write_results(
        tmp_path / "exp",
        {
            "task": "phone_linear",
            "upstream": {"name": "aalbert"},
            "featurizer": {"layer_weights": [0.1, 0.2, 0.3, 0.4]},
        },
    )
    out = tmp_path / "weights.png"
    assert main(["layer-weights", str(expdir), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert str(out) in capsys.readouterr().out
    assert main(["layer-weights", str(expdir)]) == 0  # default: beside results.json
    assert (expdir / "layer_weights.png").read_bytes()[:8] == PNG_MAGIC


def test_layer_weights_top_level_key_wins(tmp_path):
    expdir = write_results(tmp_path / "exp", {"layer_weights": [1, 0], "featurizer": {"layer_weights": [0.5, 0.5]}})
    assert layer_weights_from_results(expdir) == [1.0, 0.0]


def test_layer_weights_errors(tmp_path, capsys):
    assert main(["layer-weights", str(tmp_path / "missing")]) == 1
    assert "results.json not found" in capsys.readouterr().err
    expdir = write_results(tmp_path / "exp", {"task": "x"})
    assert main(["layer-weights", str(expdir)]) == 1
    assert "no layer_weights" in capsys.readouterr().err


def test_heatmap_and_curves_check_their_shapes(tmp_path):
    labels = ["layer 1", "layer 2"]
    path = plot_jsd_heatmap([[0.0, 0.2], [0.2, 0.0]], labels, tmp_path / "h.png", title="t")
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="2 x 2"):
        plot_jsd_heatmap([[0.0, 0.2, 0.1]], labels, tmp_path / "bad.png")
    with pytest.raises(ValueError, match="probe linear: 2 values for 3 layers"):
        plot_probe_curves({"linear": [0.1, 0.2]}, [0, 1, 2], tmp_path / "c.png")


def test_jsd_heatmap_uses_the_fixed_range(tmp_path, monkeypatch):
    import math

    import matplotlib.axes

    from aalbert.analysis.plots import plot_jsd_heatmap

    seen = {}
    real = matplotlib.axes.Axes.imshow

    def spy(self, *args, **kwargs):
        seen.update(kwargs)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", spy)
    plot_jsd_heatmap([[0.0, 0.01], [0.01, 0.0]], ["layer 1", "layer 2"], tmp_path / "j.png")
    assert seen["vmin"] == 0.0 and seen["vmax"] == math.log(2)
