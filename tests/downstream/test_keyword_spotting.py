"""keyword_spotting (SUPERB KS) end to end on a generated Speech Commands corpus (aalbert.testing)."""

import json
from types import SimpleNamespace

import pytest

import aalbert.downstream.runner as runner_module
from aalbert.downstream import cli
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import load_corpus
from aalbert.downstream.expert import TaskContext
from aalbert.downstream.keyword_spotting.expert import Expert as KeywordExpert
from aalbert.testing import TinyUpstream, make_speech_commands, train_task

TEST_SET = "speech_commands_test_set_v0.01"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """10 speakers x 12 words (6 train, 2 dev and 2 test speakers), and the test archive beside it."""
    folder = tmp_path_factory.mktemp("ks")
    make_speech_commands(folder / "speech_commands_v0.01", test_set_root=folder / TEST_SET)
    return folder / "speech_commands_v0.01"


def test_the_twelve_classes_are_learnt_and_tested_on_the_test_archive(corpus, tmp_path):
    # the task's default data.options.test_root is the archive beside the corpus, as SUPERB tests
    results = train_task("keyword_spotting", corpus, tmp_path / "exp", steps=60)
    metrics, chance = results["metrics"], results["chance"]
    assert chance["classes"] == 12 and chance["uniform"] == pytest.approx(1 / 12)
    assert chance["test"] == pytest.approx(1 / 12)  # the archive holds 10 of each class
    assert results["data"]["utterances"]["test"] == 120
    test_ids = (tmp_path / "exp" / "splits" / "test.txt").read_text().split()
    assert len(test_ids) == 120 and all(u.startswith("_test_set_/") for u in test_ids)
    # measured 0.99 (dev 1.0) after 60 steps, 0.975-0.99 over the fixture seeds 0-2; chance is 0.083
    assert metrics["test"]["accuracy"] > chance["test"] + 0.5
    assert metrics["dev_best"]["accuracy"] > chance["dev"] + 0.4
    assert set(metrics["test"]) >= {"accuracy", "balanced_accuracy"}
    on_disk = json.loads((tmp_path / "exp" / "results.json").read_text())["metrics"]
    assert on_disk["test"]["accuracy"] == metrics["test"]["accuracy"] and "accuracy" in on_disk["dev_best"]


def test_through_the_cli_on_the_lists_test_split(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: TinyUpstream())
    expdir = tmp_path / "exp"
    args = ["-m", "train", "-u", "tiny", "-d", "keyword_spotting", "--expdir", str(expdir), "--data", str(corpus)]
    settings = "runner.total_steps=60,runner.eval_step=30,optimizer.lr=0.01,data.options.test_root=null"
    results = cli.run([*args, "-o", settings])
    chance = results["chance"]
    # testing_list.txt: 2 speakers x 12 words and 2 silence crops; _unknown_ (bed, cat) is the largest class
    assert results["data"]["utterances"]["test"] == 26 and chance["test"] == pytest.approx(4 / 26)
    assert (
        results["metrics"]["test"]["accuracy"] > chance["test"] + 0.4
    )  # measured 1.0 (0.96-1.0 over fixture seeds 0-2)
    again = cli.run(["-m", "evaluate", "-e", str(expdir)])
    assert again["metrics"]["test"]["accuracy"] == pytest.approx(results["metrics"]["test"]["accuracy"])


def test_a_reader_option_typo_is_one_error_naming_the_reader(corpus, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: TinyUpstream())
    args = ["-u", "tiny", "-d", "keyword_spotting", "--expdir", str(tmp_path / "exp"), "--data", str(corpus)]
    assert cli.main([*args, "-o", "data.options.keyword=[yes]"]) == 1
    err = capsys.readouterr().err
    assert "speech_commands reader" in err and "keyword" in err and "Traceback" not in err


def test_classes_are_weighed_by_their_train_counts(corpus):
    needs = KeywordExpert.task_data("keyword_spotting")
    data = load_corpus(DataConfig(format="speech_commands", roots=[str(corpus)]), needs)
    context = TaskContext(input_dim=8, downsample_rate=160, corpus=data, task="keyword_spotting")
    expert = KeywordExpert(context, {})
    weights = dict(zip(expert.class_names, expert.class_weights.tolist()))
    assert len(weights) == 12
    # train: 6 speakers x (10 keywords, 2 unknown words) and 6 silence crops: _unknown_ is twice as common
    assert weights["_unknown_"] == pytest.approx(weights["yes"] / 2) == pytest.approx(78 / (12 * 12))
    assert weights["_silence_"] == pytest.approx(weights["yes"])
    assert KeywordExpert(context, {"balance_classes": False}).class_weights.tolist() == [1.0] * 12


def test_balanced_accuracy_is_the_mean_of_the_classes_accuracies():
    head = SimpleNamespace(class_names=["a", "b", "c"])
    counts = {"correct": 9, "utterances": 12, "correct.0": 8, "utterances.0": 8, "correct.1": 1, "utterances.1": 4}
    metrics = KeywordExpert.metrics(head, counts)  # class c absent from this split: not averaged
    assert metrics == {"accuracy": 0.75, "balanced_accuracy": pytest.approx((1 + 0.25) / 2)}
    assert KeywordExpert.metrics(head, {}) == {"accuracy": 0.0, "balanced_accuracy": 0.0}
