"""Every built-in task of issue 22 through `aalbert downstream`, on its fixture corpus in its real
layout: it trains, `-m evaluate` scores dev-best.ckpt again, and results.json holds the task's metrics
for dev and test (how well each learns is tested beside its head; here: the whole command works)."""

import json

import pytest

from aalbert.cli import main
from aalbert.testing import (
    make_fluent_commands,
    make_scored_corpus,
    make_speech_commands,
    make_spelled_corpus,
    make_voxceleb1,
)

TASKS = {  # task -> (corpus builder, -o settings, the metrics results.json must hold)
    "asr_ctc": (lambda root: make_spelled_corpus(root, speakers=2, utterances=3), [], {"wer", "cer"}),
    "keyword_spotting": (
        lambda root: make_speech_commands(root, speakers=6),
        ["data.options.test_root=null"],
        {"accuracy", "balanced_accuracy"},
    ),
    "intent_classification": (
        lambda root: make_fluent_commands(root, speakers=3, utterances=4),
        [],
        {"accuracy", "accuracy.action", "accuracy.object", "accuracy.location"},
    ),
    "speaker_verification": (
        lambda root: make_voxceleb1(root, speakers=6, videos=2, utterances=3, test_speakers=2),
        [],
        {"eer", "min_dcf"},
    ),
    "utterance_regression": (
        lambda root: make_scored_corpus(root, layout="kaldi", speakers=3, utterances=6),
        ["data.format=kaldi", "labels=[utterance.pitch:numeric]"],
        {"pearson", "spearman", "mse", "mae"},
    ),
}


@pytest.mark.parametrize("task", sorted(TASKS))
def test_task_trains_and_evaluates_through_the_command(task, tmp_path, monkeypatch):
    build, overrides, metrics = TASKS[task]
    corpus = build(tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)
    settings = ["runner.total_steps=4", "runner.eval_step=2", "runner.batch_size=4", *overrides]
    args = ["downstream", "-m", "train", "-u", "fbank", "-d", task, "-n", "x", "--data", str(corpus), "--no-progress"]
    assert main([*args, *(a for o in settings for a in ("-o", o))]) == 0
    expdir = tmp_path / "result" / "downstream" / "x"
    trained = json.loads((expdir / "results.json").read_text())
    assert trained["task"] == task and trained["steps"] == 4
    assert metrics <= set(trained["metrics"]["test"]) and metrics <= set(trained["metrics"]["dev_best"])
    assert main(["downstream", "-m", "evaluate", "-e", str(expdir), "--no-progress"]) == 0
    scored = json.loads((expdir / "results.json").read_text())
    assert scored["evaluated_checkpoint"]["file"] == "dev-best.ckpt"
    assert scored["metrics"]["test"] == pytest.approx(trained["metrics"]["test"])
