"""What pretraining shows and logs (aalbert.pretrain.progress over aalbert.training_log): with
--no-progress one plain line per runner.log_step, TensorBoard scalars of the same figures."""

import re

import pytest
from pretrain_fixtures import tiny_config
from tensorboard_events import scalars

from aalbert.pretrain.trainer import Trainer


def test_no_progress_prints_one_line_per_log_step_with_the_loss_tensorboard_logs(tmp_path, corpus_dir, capsys):
    cfg = tiny_config([corpus_dir], runner={"total_steps": 6, "log_step": 2, "save_step": 6})
    history = Trainer(cfg, tmp_path / "exp", progress=False).train()
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("pretrain step")]
    assert [line.split(":")[0] for line in lines] == [f"pretrain step {s}/6" for s in (2, 4, 6)]
    logged = scalars(tmp_path / "exp" / "log")
    assert [s for s, _ in logged["train/loss"]] == [2, 4, 6]
    for line, (_, loss) in zip(lines, logged["train/loss"]):
        figures = dict(re.findall(r"(\w+) ([-\d.e+]+)", line.split(": ", 1)[1]))
        assert set(figures) == {"loss", "lr", "grad_norm"}
        assert float(figures["loss"]) == pytest.approx(loss, rel=1e-3)
    # each report: the mean loss of the steps since the previous one
    means = [(history[i].loss + history[i + 1].loss) / 2 for i in (0, 2, 4)]
    assert [v for _, v in logged["train/loss"]] == pytest.approx(means, rel=1e-5)
    assert [s for s, _ in logged["train/lr"]] == [2, 4, 6]
    assert [v for _, v in logged["train/lr"]] == pytest.approx([history[i].lr for i in (1, 3, 5)])
    assert [s for s, _ in logged["train/grad_norm"]] == [2, 4, 6]
