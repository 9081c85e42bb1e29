"""What the downstream loop shows and logs (aalbert.downstream.training over aalbert.training_log):
with --no-progress one plain line per runner.log_step and one per dev evaluation; TensorBoard scalars
of the train loss, learning rates, gradient norm, the task's metrics and the dev metrics."""

import json
import re

import pytest
from downstream_fakes import FakeUpstream
from tensorboard_events import scalars

from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner


def figures(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r"(\w+) ([-\d.e+]+)", line.split(": ", 1)[1])}


def test_no_progress_lines_and_tensorboard_scalars(tone_corpus, tmp_path, capsys):
    overrides = [f"data.roots=[{tone_corpus}]", "runner.total_steps=20", "runner.eval_step=10", "runner.log_step=5"]
    overrides += ["model.hidden_size=32", "optimizer.lr=0.01", "finetune=true", "optimizer.upstream_lr=0.0005"]
    cfg = build_config("phone_linear", overrides=overrides, upstream="fake")
    Runner(cfg, tmp_path / "exp", upstream=FakeUpstream(), progress=False).train()
    out = [line for line in capsys.readouterr().out.splitlines() if line.startswith("phone_linear step")]
    train = [line for line in out if " dev: " not in line]
    dev = [line for line in out if " dev: " in line]
    assert [line.split(":")[0] for line in train] == [f"phone_linear step {s}/20" for s in (5, 10, 15, 20)]
    assert [line.split(":")[0] for line in dev] == ["phone_linear step 10 dev", "phone_linear step 20 dev"]
    assert set(figures(train[0])) == {"loss", "lr", "lr_group1", "grad_norm", "accuracy"}
    assert figures(train[0])["lr"] == 0.01 and figures(train[0])["lr_group1"] == 0.0005

    logged = scalars(tmp_path / "exp" / "tb")
    for tag in ("train/loss", "train/lr", "train/lr_group1", "train/grad_norm", "train/accuracy"):
        assert [step for step, _ in logged[tag]] == [5, 10, 15, 20], tag
    assert [v for _, v in logged["train/loss"]] == pytest.approx([figures(line)["loss"] for line in train], rel=1e-3)
    assert [v for _, v in logged["train/lr_group1"]] == pytest.approx([0.0005] * 4)
    assert [step for step, _ in logged["dev/accuracy"]] == [10, 20]
    best = json.loads((tmp_path / "exp" / "results.json").read_text())["metrics"]["dev_best"]
    assert dict(logged["dev/accuracy"])[best["step"]] == pytest.approx(best["accuracy"])
    assert [v for _, v in logged["dev/accuracy"]] == pytest.approx([figures(line)["accuracy"] for line in dev], 1e-3)
