"""What both training loops show and write (aalbert.training_log): a bar, or with --no-progress one
plain line per report; TensorBoard scalars of the mean loss since the last report and the dev metrics."""

import pytest
from tensorboard_events import scalars

from aalbert.training_log import TrainingLog


def test_without_progress_each_report_is_one_plain_line_and_the_loss_is_the_mean_since_the_last(tmp_path, capsys):
    log = TrainingLog("pretrain", 4, 0, progress=False, logdir=tmp_path / "tb")
    for loss in (1.0, 3.0):
        log.step_done(loss)
    assert log.report(2, {"lr": 2e-4, "grad_norm": 1.5}) == 2.0
    log.step_done(5.0)
    log.report(3, {"lr": 1e-4, "grad_norm": 0.5})
    log.evaluated(3, {"accuracy": 0.75, "loss": 0.5})
    log.close()
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        "pretrain step 2/4: loss 2, lr 0.0002, grad_norm 1.5",
        "pretrain step 3/4: loss 5, lr 0.0001, grad_norm 0.5",
        "pretrain step 3 dev: accuracy 0.75, loss 0.5",
    ]
    assert captured.err == ""  # no bar
    logged = scalars(tmp_path / "tb")
    assert logged["train/loss"] == [(2, 2.0), (3, 5.0)]
    assert logged["train/lr"] == [(2, pytest.approx(2e-4)), (3, pytest.approx(1e-4))]
    assert logged["train/grad_norm"] == [(2, 1.5), (3, 0.5)]
    assert logged["dev/accuracy"] == [(3, 0.75)] and logged["dev/loss"] == [(3, 0.5)]


def test_with_progress_reports_go_on_the_bar_and_dev_lines_above_it(capsys):
    log = TrainingLog("train", 2, 0, progress=True)
    log.step_done(1.0)
    log.report(1, {"lr": 1e-3})
    log.evaluated(1, {"accuracy": 0.5})
    log.close()
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["train step 1 dev: accuracy 0.5"]  # the report itself is on the bar
    assert "loss=1" in captured.err and "lr=0.001" in captured.err
