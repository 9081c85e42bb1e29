"""intent_classification: the multi-output utterance head on a generated Fluent Speech Commands corpus."""

import json
from collections import Counter

import pytest
import torch

import aalbert.downstream.runner as runner_module
from aalbert.corpus.readers.fluent_commands import DATASET_FOLDER
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.downstream import cli
from aalbert.downstream.intent import label_keys, slot_counts, slot_metrics
from aalbert.testing import TinyUpstream
from aalbert.testing.fluent_commands import make_fluent_commands

SLOTS = ("action", "object", "location")


@pytest.fixture(scope="module")
def fluent(tmp_path_factory):
    """10 speakers x 10 commands: 6 speakers in train, 2 in valid, 2 in test."""
    return make_fluent_commands(tmp_path_factory.mktemp("fsc") / DATASET_FOLDER, speakers=10)


def test_all_correct_accuracy_is_the_hand_count():
    # 4 utterances, two outputs: action (3 classes), location (2 classes)
    action = torch.tensor([[2.0, 0, 0], [0, 3, 0], [0, 0, 1], [1, 0, 0]])  # predicts 0, 1, 2, 0
    location = torch.tensor([[0.0, 1], [1, 0], [0, 2], [3, 0]])  # predicts 1, 0, 1, 0
    targets = [torch.tensor([0, 1, 1, 0]), torch.tensor([1, 1, 1, 0])]
    # action right: yes yes no yes; location right: yes no yes yes; both: utterances 0 and 3
    counts = slot_counts([action, location], targets, ["action", "location"])
    assert counts == {"utterances": 4, "correct": 2, "correct.action": 3, "correct.location": 3}
    assert slot_metrics(counts, ["action", "location"]) == {
        "accuracy": 0.5,
        "accuracy.action": 0.75,
        "accuracy.location": 0.75,
    }
    # counts add up over batches: the halves summed give the same totals
    halves = [
        slot_counts([action[i], location[i]], [t[i] for t in targets], ["action", "location"])
        for i in (slice(0, 2), slice(2, 4))
    ]
    assert {k: halves[0][k] + halves[1][k] for k in counts} == counts
    assert slot_metrics({}, ["action"]) == {"accuracy": 0.0, "accuracy.action": 0.0}  # an empty split


def test_metric_names_are_the_fields_unless_ambiguous():
    assert label_keys(["utterance.action", "utterance.object"]) == ["action", "object"]
    assert label_keys(["speaker.gender", "utterance.gender", "speaker"]) == [
        "speaker.gender",
        "utterance.gender",
        "speaker",
    ]


def _chance(listing, uttids):
    """The all-correct accuracy of always answering each slot's most frequent test value."""
    info = {u.uttid: u.info for u in listing.utterances}
    product = 1.0
    for slot in SLOTS:
        values = Counter(info[u][slot] for u in uttids)
        product *= values.most_common(1)[0][1] / len(uttids)
    return product


def _train(fluent, expdir, steps, lr, more=""):
    overrides = f"runner.total_steps={steps},runner.eval_step={max(1, steps // 2)},runner.batch_size=8"
    overrides += f",optimizer.lr={lr}{more}"
    args = ["-m", "train", "-u", "tiny", "-d", "intent_classification", "--expdir", str(expdir)]
    return cli.run([*args, "--data", str(fluent), "-o", overrides])


def test_intent_classification_trains_and_evaluates_through_the_cli(fluent, tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: TinyUpstream())
    expdir = tmp_path / "exp"
    test = _train(fluent, expdir, steps=120, lr=0.01)["metrics"]["test"]
    # the CSVs are the split: valid_data.csv is dev, the test speakers are unseen
    listing = read_corpus(CorpusSpec("fluent_commands", [str(fluent)]))
    split = {s: (expdir / "splits" / f"{s}.txt").read_text().split() for s in ("train", "dev", "test")}
    assert {s: sorted(ids) for s, ids in split.items()} == {
        s: sorted(u for u, p in listing.partition.items() if p == s) for s in ("train", "dev", "test")
    }
    chance = _chance(listing, split["test"])
    assert chance < 0.05  # 0.2 x 0.3 x 0.6 over the 20 test commands
    assert test["accuracy"] >= 0.8 > 10 * chance  # measured: 1.0 after 100 and 120 steps, 0.6 after 50
    for slot in SLOTS:
        assert test[f"accuracy.{slot}"] >= test["accuracy"]
    # evaluate reloads the best checkpoint and gives the same figures
    again = cli.run(["-m", "evaluate", "-e", str(expdir)])
    assert again["metrics"]["test"]["accuracy"] == pytest.approx(test["accuracy"])
    assert json.loads((expdir / "results.json").read_text())["metrics"]["test"] == again["metrics"]["test"]
    # untrained (lr 0) the head is at chance: the figures above come from training, not the metric
    # (and its other settings build: a shared hidden layer, attentive pooling)
    more = ",model.hidden_layers=1,model.pooling=attentive"
    untrained = _train(fluent, tmp_path / "untrained", steps=2, lr=0, more=more)["metrics"]["test"]
    assert untrained["accuracy"] <= 0.1  # measured: 0.0
