"""`aalbert plots` redraws every figure from finished experiment folders; the JSD heatmap's scale."""

import json

import pytest

import aalbert.analysis.figures as figures
from aalbert.analysis.figures import LN2, jsd_figure, plot_jsd_heatmap
from aalbert.analysis.plots import layer_weights_from_results, main

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def write_json(folder, name, payload):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(payload))
    return folder


def probe_run(name, num_layers, values):
    rows = [{"layer": i, "probe": "linear", "dev_accuracy": v, "test_accuracy": v} for i, v in enumerate(values)]
    chance = {"class": "sil", "classes": 3, "uniform": 1 / 3, "dev": 0.3, "test": 0.3}
    upstream = {"name": name, "num_layers": num_layers}
    return {"task": "phone", "metric": "accuracy", "upstream": upstream, "rows": rows, "chance": chance}


def test_downstream_reads_the_runner_layout(tmp_path, capsys):
    expdir = write_json(
        tmp_path / "exp",
        "results.json",
        {"task": "phone_linear", "upstream": {"name": "aalbert"}, "featurizer": {"layer_weights": [0.1, 0.9]}},
    )
    out = tmp_path / "weights.png"
    assert main(["downstream", str(expdir), "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC and str(out) in capsys.readouterr().out
    assert main(["layer-weights", str(expdir)]) == 0  # the earlier name; default: beside results.json
    assert (expdir / "layer_weights.png").read_bytes()[:8] == PNG_MAGIC
    assert layer_weights_from_results(expdir) == [0.1, 0.9]


def test_downstream_errors_name_the_file(tmp_path, capsys):
    assert main(["downstream", str(tmp_path / "missing")]) == 1
    assert "missing/results.json not found: is" in capsys.readouterr().err
    expdir = write_json(tmp_path / "exp", "results.json", {"task": "x"})
    assert main(["downstream", str(expdir)]) == 1
    assert "exp/results.json holds no layer_weights" in capsys.readouterr().err
    (expdir / "results.json").write_text("{")
    assert main(["downstream", str(expdir)]) == 1
    assert "is not JSON" in capsys.readouterr().err


def test_probe_draws_several_folders_into_one_figure(tmp_path, capsys):
    a = write_json(tmp_path / "aalbert", "probe_results.json", probe_run("aalbert", 2, [0.5, 0.6, 0.55]))
    f = write_json(tmp_path / "fbank", "probe_results.json", probe_run("fbank", 0, [0.52]))
    out = tmp_path / "both.png"
    assert main(["probe", str(a), str(f), "--out", str(out), "--title", "phones"]) == 0
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert main(["probe", str(a)]) == 0 and (a / "probe_accuracy.png").is_file()
    capsys.readouterr()
    assert main(["probe", str(a), str(f)]) == 2  # where would one figure of two folders go?
    assert "say where it goes with --out PNG" in capsys.readouterr().err


def test_attention_and_its_title(tmp_path, monkeypatch):
    payload = {
        "matrix": [[0.0, 0.02], [0.02, 0.0]],
        "layers": ["layer 1", "layer 2"],
        "upstream": {"name": "aalbert_local", "label": "aalbert_local (states-300.ckpt)"},
        "utterances": 20,
        "sample": {"speakers": 12},
    }
    folder = write_json(tmp_path / "attn", "attention_jsd.json", payload)
    drawn = []
    real_save = figures.save
    monkeypatch.setattr(figures, "save", lambda fig, path: drawn.append(fig) or real_save(fig, path))
    assert main(["attention", str(folder)]) == 0
    assert (folder / "attention_jsd.png").read_bytes()[:8] == PNG_MAGIC
    title = drawn[0].axes[0].get_title()
    assert "aalbert_local (states-300.ckpt)" in title and "20 utterances of 12 speakers" in title


def test_demo_needs_a_demo_folder(tmp_path, capsys):
    assert main(["demo", str(tmp_path)]) == 1
    assert "holds no finished phone_linear experiment" in capsys.readouterr().err


def test_the_heatmap_colours_span_the_data_and_say_so(tmp_path):
    matrix = [[0.0, 0.01, 0.004], [0.01, 0.0, 0.002], [0.004, 0.002, 0.0]]
    fig = jsd_figure(matrix, ["layer 1", "layer 2", "layer 3"], "t")
    ax, bar = fig.axes
    image = ax.images[0]
    assert image.get_clim() == (0.0, 0.01)  # a trained model's few hundredths, not [0, ln 2]: structure shows
    assert "scale 0 to 0.01;" in bar.get_ylabel() and "ln 2 = 0.69" in bar.get_ylabel()
    cells = {t.get_text(): t.get_color() for t in ax.texts}
    assert cells["0.01"] == "black" and cells["0.002"] == "white"  # readable on light and dark cells
    assert jsd_figure([[0.0]], ["layer 1"]).axes[0].images[0].get_clim() == (0.0, LN2)  # nothing to scale by
    assert plot_jsd_heatmap(matrix, ["1", "2", "3"], tmp_path / "h.png").read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="3 x 3"):
        jsd_figure([[0.0, 0.2, 0.1]], ["1", "2", "3"])
