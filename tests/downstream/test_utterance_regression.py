"""utterance_regression: the reusable regression head trained end to end on a corpus whose targets are a
known function of the audio (aalbert.testing.make_scored_corpus), and the same targets shuffled, which
a working pipeline cannot learn; both corpus layouts; its errors."""

import json
import random

import pytest
import torch

import aalbert.downstream.runner as runner_module
from aalbert.downstream import cli
from aalbert.downstream.data import Batch
from aalbert.downstream.expert import TaskContext, add_counts
from aalbert.downstream.regression import UtteranceRegressionExpert
from aalbert.errors import AalbertError, BadInputError, TaskRequirementError
from aalbert.testing import TinyUpstream, make_scored_corpus, train_task

SPEAKERS, UTTERANCES = 6, 30
SCORES_TABLE = "data.metadata=[{path: scores.csv, per: utterance, key: uttid}]"


def _split_lists(folder, uttids):
    """Utterance u of each speaker: u % 5 in 0-2 train, 3 dev, 4 test (36 test utterances: a shuffled
    target's correlation stays near 0, where 6 points would scatter it anywhere)."""
    folder.mkdir()
    for name, keep in (("train", (0, 1, 2)), ("dev", (3,)), ("test", (4,))):
        chosen = [u for u in uttids if int(u.rsplit("-", 1)[1]) % 5 in keep]
        (folder / f"{name}.txt").write_text("\n".join(chosen) + "\n")
    return f"data.splits={folder}"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    root = tmp_path_factory.mktemp("scored")
    corpus = make_scored_corpus(root / "corpus", speakers=SPEAKERS, utterances=UTTERANCES)
    uttids = sorted(json.loads((corpus / "scores.json").read_text())["utterances"])
    return corpus, _split_lists(root / "splits", uttids)


def _train(corpus, expdir, *overrides, steps=60):
    return train_task("utterance_regression", corpus, expdir, steps=steps, overrides=overrides)


def test_regression_learns_the_loudness_from_a_scores_table(scored, tmp_path):
    corpus, splits = scored
    results = _train(corpus, tmp_path / "exp", "labels=[utterance.loudness:numeric]", SCORES_TABLE, splits)
    metrics = results["metrics"]
    for split in ("dev_best", "test"):
        assert {"pearson", "spearman", "mse", "mae"} <= set(metrics[split])
    assert json.loads((tmp_path / "exp" / "results.json").read_text())["metrics"]["test"] == metrics["test"]
    # measured 0.95-0.99 over corpus seeds 0-4: a broken pipeline (features misaligned with targets, or a head fitting only the
    # mean) cannot reach it; errors are in dB, the target's units (the gains span 24 dB)
    assert metrics["test"]["pearson"] > 0.85 and metrics["test"]["spearman"] > 0.8
    assert metrics["test"]["mae"] < 4.5  # measured 0.9-4.2 over corpus seeds; predicting the mean: ~6


def test_shuffled_targets_are_not_learnt(scored, tmp_path):
    corpus, splits = scored
    table = tmp_path / "shuffled.csv"  # the scores table with the loudness permuted across utterances
    _, *rows = (corpus / "scores.csv").read_text().splitlines()  # uttid,loudness,pitch
    loudness = [row.split(",")[1] for row in rows]
    random.Random(0).shuffle(loudness)
    table.write_text("uttid,loudness\n" + "".join(f"{r.split(',')[0]},{v}\n" for r, v in zip(rows, loudness)))
    metadata = f"data.metadata=[{{path: {table}, per: utterance, key: uttid, fields: [loudness]}}]"
    results = _train(corpus, tmp_path / "exp", "labels=[utterance.loudness:numeric]", metadata, splits)
    assert abs(results["metrics"]["test"]["pearson"]) < 0.4  # measured -0.16..0.14 over seeds 0-4


def test_kaldi_layout_through_the_command_line_then_evaluate(tmp_path, monkeypatch):
    monkeypatch.setattr(runner_module, "load_upstream_by_name", lambda name, ckpt: TinyUpstream())
    data_dir = make_scored_corpus(tmp_path / "corpus", layout="kaldi", speakers=SPEAKERS, utterances=UTTERANCES)
    uttids = [line.split()[0] for line in (data_dir / "utt2spk").read_text().splitlines()]
    splits = _split_lists(tmp_path / "splits", uttids)
    expdir = tmp_path / "exp"
    # the Kaldi reader reads the data directory's utt2pitch itself: no data.metadata
    overrides = f"labels=[utterance.pitch:numeric],data.format=kaldi,{splits},runner.total_steps=60,runner.eval_step=30"
    args = ["-u", "tiny", "-d", "utterance_regression", "--expdir", str(expdir), "--data", str(data_dir)]
    results = cli.run(["-m", "train", *args, "-o", overrides, "-o", "optimizer.lr=0.01"])
    assert results["metrics"]["test"]["pearson"] > 0.8  # measured 0.90-0.97 over corpus seeds 0-4
    assert results["metrics"]["test"]["mae"] < 400  # Hz; predicting the mean: ~625
    # the best checkpoint scores the same again: the train split's mean and std are saved with it
    again = cli.run(["-m", "evaluate", "-e", str(expdir)])
    assert again["metrics"]["test"]["pearson"] == pytest.approx(results["metrics"]["test"]["pearson"])
    assert again["metrics"]["test"]["mae"] == pytest.approx(results["metrics"]["test"]["mae"])


def test_a_speaker_field_from_a_kaldi_file_with_l1_and_attentive_pooling(scored, tmp_path):
    corpus, splits = scored  # spk2age beside the LibriSpeech layout: each voice tone follows its speaker's age
    overrides = ("labels=[speaker.age:numeric]", "data.metadata=[spk2age]", "model.loss=l1", "model.pooling=attentive")
    results = _train(corpus, tmp_path / "exp", *overrides, splits)
    assert results["metrics"]["test"]["pearson"] > 0.8  # measured 0.97


def test_a_value_that_is_not_a_number_names_the_file(scored, tmp_path):
    corpus, _ = scored
    table = tmp_path / "bad.csv"
    table.write_text("uttid,loudness\n" + "".join(f"200-7-{u:04d},{-u}\n" for u in range(UTTERANCES)))
    table.write_text(table.read_text().replace("200-7-0003,-3", "200-7-0003,loud"))
    metadata = f"data.metadata=[{{path: {table}, per: utterance, key: uttid}}]"
    with pytest.raises(BadInputError, match=r"bad\.csv.*200-7-0003.*'loud'"):
        _train(corpus, tmp_path / "exp", "labels=[utterance.loudness:numeric]", metadata, steps=2)


def test_a_categorical_label_is_refused_saying_what_to_write(scored, tmp_path):
    corpus, _ = scored
    with pytest.raises(TaskRequirementError, match=r"speaker\.gender is not numeric: write speaker\.gender:numeric"):
        _train(corpus, tmp_path / "exp", "labels=[speaker.gender]", steps=2)
    with pytest.raises(TaskRequirementError, match="write utterance.FIELD:numeric"):
        _train(corpus, tmp_path / "exp2", "labels=[speaker]", steps=2)


def _expert(train_values, **config):
    """The head over a fake corpus whose train split has these values of utterance.score:numeric."""
    utts = [type("U", (), {"uttid": f"u{i}", "speaker": "s"})() for i in range(len(train_values))]
    corpus = type("C", (), {})()
    corpus.splits = {"train": utts}
    corpus.speaker_info = {}
    corpus.utterance_info = {f"u{i}": {"score": str(v)} for i, v in enumerate(train_values)}
    context = TaskContext(input_dim=4, downsample_rate=160, corpus=corpus, task="t")  # type: ignore[arg-type]
    return UtteranceRegressionExpert(context, config)


def test_targets_are_z_scored_with_train_statistics_and_metrics_are_in_target_units():
    expert = _expert([10.0, 20.0, 30.0])
    assert expert.target_mean.item() == pytest.approx(20.0) and expert.target_std.item() == pytest.approx(8.1650, 1e-4)
    assert _expert([5.0, 5.0]).target_std.item() == 1.0  # constant targets: nothing to scale by
    assert _expert([1.0, 2.0], normalize_targets=False).target_mean.item() == 0.0
    torch.manual_seed(0)
    totals: dict = {}
    for uttids, scores in ((["a", "b"], [12.0, 28.0]), (["c"], [21.0])):  # two batches, concatenated
        batch = Batch(uttids, [], torch.zeros(len(uttids), dtype=torch.long), [None] * len(uttids))
        batch.labels["utterance.score:numeric"] = torch.tensor(scores)
        out = expert(torch.randn(len(uttids), 5, 4), torch.tensor([5] * len(uttids)), batch)
        assert out.loss.ndim == 0 and len(out.counts["predictions"]) == len(uttids)
        add_counts(totals, out.counts)
    assert totals["targets"] == [12.0, 28.0, 21.0]
    assert set(expert.metrics(totals)) == {"pearson", "spearman", "mse", "mae"}
    with pytest.raises(AalbertError, match="model.loss must be one of mse, l1"):
        _expert([1.0], loss="huber")
