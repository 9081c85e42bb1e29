"""The analysis commands' TensorBoard logs: one run per (layer, probe) plus accuracy against layer
(aalbert.analysis.probing), the attention JSD matrix as curves and an image (aalbert.analysis.attention)."""

import json
import math

import pytest
import torch
from analysis_fakes import ToyUpstream
from tensorboard_events import events, image_tags, scalars

from aalbert.analysis.attention import JSON_NAME
from aalbert.analysis.attention import main as attention_main
from aalbert.analysis.probe import ProbeTrainConfig
from aalbert.analysis.probing import PROGRESS_NAME, ProbingConfig, run
from aalbert.downstream.config import DataConfig


def test_each_probe_logs_its_own_run_and_accuracy_against_layer(probe_corpus, tmp_path, capsys):
    train = ProbeTrainConfig(epochs=2, patience=2, lr=1e-2, batch_size=4, dropout=0.0)
    cfg = ProbingConfig(
        upstream="toy", task="speaker", probes=["linear"], layers=[0, 2], data=DataConfig(roots=[str(probe_corpus)])
    )
    cfg.train = train
    rows = run(cfg, tmp_path / "out", ToyUpstream(), progress=False)
    tb = tmp_path / "out" / "tb"
    assert sorted(p.name for p in tb.iterdir()) == ["by_layer", "layer_00_linear", "layer_02_linear"]
    epoch = math.ceil(24 / 4)  # speaker split 8:1:1 per speaker of 3 x 10 utterances: 24 train, batches of 4
    for row in rows:
        logged = scalars(tb / f"layer_{row['layer']:02d}_linear")
        assert [s for s, _ in logged["train/loss"]] == [epoch, 2 * epoch]  # log_step: one epoch
        assert [v for _, v in logged["train/lr"]] == pytest.approx([1e-2, 1e-2])
        assert max(v for _, v in logged["dev/accuracy"]) == pytest.approx(row["dev_accuracy"])
    by_layer = scalars(tb / "by_layer")
    assert by_layer["test_accuracy/linear"] == [(r["layer"], pytest.approx(r["test_accuracy"])) for r in rows]
    assert by_layer["dev_accuracy/linear"] == [(r["layer"], pytest.approx(r["dev_accuracy"])) for r in rows]
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("layer 2 linear step")]
    assert [line.split(":")[0] for line in lines] == [
        f"layer 2 linear step {epoch}/{2 * epoch}",
        f"layer 2 linear step {epoch} dev",
        f"layer 2 linear step {2 * epoch}/{2 * epoch}",
        f"layer 2 linear step {2 * epoch} dev",
    ]

    # probes trained again (here: their progress file lost) replace their runs, never add curves to them
    (tmp_path / "out" / PROGRESS_NAME).unlink()
    run(cfg, tmp_path / "out", ToyUpstream(), progress=False)
    assert [s for s, _ in scalars(tb / "layer_00_linear")["train/loss"]] == [epoch, 2 * epoch]
    assert [s for s, _ in scalars(tb / "by_layer")["test_accuracy/linear"]] == [0, 2]


def test_attention_logs_the_matrix_rows_and_the_heatmap(audio_dir, tiny_aalbert_ckpt, tmp_path):
    out = tmp_path / "attn"
    argv = ["-u", "aalbert_local", "-k", str(tiny_aalbert_ckpt), "--data", str(audio_dir), "--num-utterances", "2"]
    assert attention_main([*argv, "--out", str(out), "--no-progress"]) == 0
    matrix = torch.tensor(json.loads((out / JSON_NAME).read_text())["matrix"])
    logged = scalars(out / "tb")
    assert sorted(logged) == ["jsd/layer_01", "jsd/layer_02", "jsd/layer_03"]
    for i in range(3):
        assert logged[f"jsd/layer_{i + 1:02d}"] == [(j + 1, pytest.approx(float(matrix[i, j]))) for j in range(3)]
    assert image_tags(out / "tb") == ["attention_jsd"]
    image = next(v.image for e in events(out / "tb") for v in e.summary.value if v.HasField("image"))
    assert image.width > 100 and image.height > 100
    # the same run again replaces the log
    assert attention_main([*argv, "--out", str(out), "--no-progress"]) == 0
    assert len(scalars(out / "tb")["jsd/layer_01"]) == 3
