import csv
import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import torch
from analysis_fakes import OneLayerKnows, ToyUpstream

from aalbert.analysis.probe import ProbeTrainConfig, train_probe
from aalbert.analysis.probing import CSV_NAME, JSON_NAME, PNG_NAME, ProbingConfig, main, run
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import Corpus, TaskData, Utterance, load_corpus
from aalbert.downstream.expert import TaskContext
from aalbert.downstream.feature_cache import FeatureCache, extract_features
from aalbert.downstream.speaker import SpeakerUtteranceExpert

FAST = dict(lr=1e-2, batch_size=4, dropout=0.0)


def config(corpus_root, task, **kw) -> ProbingConfig:
    train = ProbeTrainConfig(**{"epochs": 8, "patience": 8, **FAST, **kw.pop("train", {})})
    return ProbingConfig(upstream="toy", task=task, data=DataConfig(roots=[str(corpus_root)]), train=train, **kw)


def test_cli_writes_layer_by_probe_table_and_plot(probe_corpus, tiny_aalbert_ckpt, tmp_path):
    out = tmp_path / "probe"
    rc = main(
        [
            "-u",
            "aalbert_local",
            "-k",
            str(tiny_aalbert_ckpt),
            "--task",
            "phone",
            "--probes",
            "linear,2hidden",
            "--layers",
            "0,3",
            "--data",
            str(probe_corpus),
            "--epochs",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert rc == 0
    with open(out / CSV_NAME) as f:
        rows = list(csv.DictReader(f))
    assert [(r["layer"], r["probe"]) for r in rows] == [
        ("0", "linear"),
        ("0", "2hidden"),
        ("3", "linear"),
        ("3", "2hidden"),
    ]
    for r in rows:
        assert 0.0 <= float(r["dev_accuracy"]) <= 1.0 and 0.0 <= float(r["test_accuracy"]) <= 1.0
    payload = json.loads((out / JSON_NAME).read_text())
    assert payload["task"] == "phone" and payload["upstream"]["num_layers"] == 3
    assert payload["data"]["utterances"] == {"train": 10, "dev": 10, "test": 10}  # phones: speakers split 1:1:1
    assert len(payload["rows"]) == 4 and payload["settings"]["probes"] == ["linear", "2hidden"]
    chance = payload["chance"]  # the figure's chance line: train's majority phone, on each split's frames
    assert chance["rule"] == "majority" and chance["unit"] == "10 ms frame" and 0 < chance["test"] < 1
    assert payload["upstream"]["label"] == f"aalbert_local ({tiny_aalbert_ckpt.name})"
    assert (out / PNG_NAME).read_bytes()[:4] == b"\x89PNG"


def test_probes_learn_phones_far_above_the_majority_class(probe_corpus, tmp_path):
    cfg = config(probe_corpus, "phone", probes=["1hidden"], layers=[0], train={"epochs": 4})
    cfg.data.split_policy = "per_speaker"  # every voice in training: this test is about the probe, not the split
    rows = run(cfg, tmp_path, ToyUpstream(), progress=False)
    corpus = load_corpus(DataConfig(roots=[str(probe_corpus)]), TaskData("frames"))
    counts = Counter(p for u in corpus.splits["test"] for p in u.phones)
    majority = max(counts.values()) / sum(counts.values())
    assert rows[0]["test_accuracy"] > max(0.8, majority + 0.3)


@pytest.mark.parametrize("informative", [0, 2])  # first and last: an index shifted either way fails
def test_each_row_is_trained_on_its_own_hidden_state(probe_corpus, tmp_path, informative):
    """Only hidden state ``informative`` carries the audio (the others are noise): its row learns the
    phones, the other rows stay at the majority class. A probe fed another hidden state, or all of
    them, would move the high accuracy to another row or spread it."""
    cfg = config(probe_corpus, "phone", probes=["1hidden"], train={"epochs": 4})
    cfg.data.split_policy = "per_speaker"
    rows = run(cfg, tmp_path, OneLayerKnows(informative), progress=False)
    assert [r["layer"] for r in rows] == [0, 1, 2]
    corpus = load_corpus(DataConfig(roots=[str(probe_corpus)]), TaskData("frames"))
    counts = Counter(p for u in corpus.splits["test"] for p in u.phones)
    majority = max(counts.values()) / sum(counts.values())
    accuracy = {r["layer"]: r["test_accuracy"] for r in rows}
    assert accuracy[informative] > max(0.8, majority + 0.3), accuracy
    assert all(a < majority + 0.1 for layer, a in accuracy.items() if layer != informative), (majority, accuracy)


def test_speaker_probe_finds_the_speaker(probe_corpus, tmp_path):
    rows = run(config(probe_corpus, "speaker", probes=["linear"], layers=[1]), tmp_path, ToyUpstream(), progress=False)
    assert rows[0]["dev_accuracy"] == 1.0 and rows[0]["test_accuracy"] >= 2 / 3  # chance: 1/3


def test_upstream_runs_once_and_disk_cache_is_reused(probe_corpus, tmp_path):
    cache_dir = tmp_path / "cache"
    cfg = config(
        probe_corpus, "speaker", probes=["linear"], cache_dir=str(cache_dir), extract_batch_size=8, train={"epochs": 2}
    )
    first = ToyUpstream()
    rows = run(cfg, tmp_path / "a", first, progress=False)
    assert len(rows) == 3  # 3 hidden states probed ...
    assert first.calls == 4  # ... from one pass: ceil(30 utterances / 8)
    assert len(list(cache_dir.glob("*/layer_02/*.pt"))) == 30

    again = ToyUpstream()
    assert run(cfg, tmp_path / "b", again, progress=False) == rows
    assert again.calls == 0  # same manifest, every file present: reused

    in_memory = ProbingConfig(**{**cfg.__dict__, "cache_dir": None})
    assert run(in_memory, tmp_path / "c", ToyUpstream(), progress=False) == rows

    shutil.rmtree(next(cache_dir.glob("*/layer_01")))  # an incomplete cache is rebuilt, not trusted
    rebuilt = ToyUpstream()
    assert run(cfg, tmp_path / "d", rebuilt, progress=False) == rows
    assert rebuilt.calls == 4


def test_finished_probes_are_kept_and_skipped_on_rerun(probe_corpus, tmp_path, monkeypatch):
    import aalbert.analysis.probing as probing

    cfg = config(probe_corpus, "speaker", probes=["linear", "1hidden"], train={"epochs": 2})
    trained = []
    real = probing.train_probe

    def stops_after_three(*args, **kwargs):
        if len(trained) == 3:
            raise KeyboardInterrupt
        trained.append(kwargs["desc"])
        return real(*args, **kwargs)

    monkeypatch.setattr(probing, "train_probe", stops_after_three)
    with pytest.raises(KeyboardInterrupt):
        run(cfg, tmp_path / "out", ToyUpstream(), progress=False)
    saved = json.loads((tmp_path / "out" / probing.PROGRESS_NAME).read_text())["rows"]
    assert [(r["layer"], r["probe"]) for r in saved] == [(0, "linear"), (0, "1hidden"), (1, "linear")]
    trained.clear()
    monkeypatch.setattr(probing, "train_probe", real)
    rows = run(cfg, tmp_path / "out", ToyUpstream(), progress=False)
    assert len(rows) == 6 and rows[:3] == saved
    assert rows == run(cfg, tmp_path / "fresh", ToyUpstream(), progress=False)  # as if never interrupted
    # other settings: nothing reused
    other = config(probe_corpus, "speaker", probes=["linear"], train={"epochs": 3})
    calls = []
    monkeypatch.setattr(probing, "train_probe", lambda *a, **k: calls.append(1) or real(*a, **k))
    run(other, tmp_path / "out", ToyUpstream(), progress=False)
    assert len(calls) == 3


def test_cached_features_exclude_padding_and_pool_valid_frames(probe_corpus):
    corpus = load_corpus(DataConfig(roots=[str(probe_corpus)]), TaskData())
    utts = corpus.splits["train"][:4]
    upstream = ToyUpstream()
    alone, batched, pooled = FeatureCache(3), FeatureCache(3), FeatureCache(3)
    extract_features(upstream, utts, alone, batch_size=1, progress=False)
    extract_features(upstream, utts, batched, batch_size=4, progress=False)
    extract_features(upstream, utts, pooled, pool="mean", batch_size=4, progress=False)
    ids = [u.uttid for u in utts]
    assert len({f.shape[0] for f in alone.layer(2, ids)}) > 1  # lengths differ, so the batch was padded
    for a, b, p in zip(alone.layer(2, ids), batched.layer(2, ids), pooled.layer(2, ids)):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-5)
        assert p.shape == (1, a.shape[1]) and torch.allclose(p[0], a.mean(0), atol=1e-5)


def synthetic_speaker_features(signal: float):
    """Two speakers, 8 utterances each per split; one hidden state: features = signal * speaker + noise."""
    gen = torch.Generator().manual_seed(0)
    splits, features = {}, FeatureCache(1)
    for split in ("train", "dev", "test"):
        splits[split] = []
        for i in range(16):
            spk = str(i % 2)
            splits[split].append(Utterance(f"{spk}-{split}-{i}", None, spk))
            feature = torch.randn(1, 4, generator=gen) + signal * (1 if spk == "1" else -1)
            features.put(splits[split][-1].uttid, [feature])
    return features, TaskContext(4, 160, Corpus(splits, ["0", "1"]))


def test_early_stopping_keeps_the_best_dev_epoch():
    features, context = synthetic_speaker_features(signal=3.0)
    # lr 0: dev never improves after the first epoch, so training stops after `patience` more
    frozen = train_probe(
        SpeakerUtteranceExpert,
        context,
        0,
        features,
        0,
        ProbeTrainConfig(epochs=20, patience=2, lr=0.0, batch_size=4),
        progress=False,
    )
    assert frozen.best_epoch == 1 and frozen.epochs_run == 3
    learned = train_probe(
        SpeakerUtteranceExpert,
        context,
        1,
        features,
        0,
        ProbeTrainConfig(epochs=20, patience=20, lr=1e-2, batch_size=4, max_steps=30),
        progress=False,
    )
    assert learned.steps == 30 and learned.epochs_run == 8  # 4 steps per epoch: stopped in epoch 8
    assert learned.test["accuracy"] > 0.9


def test_bad_settings_are_clear_errors(probe_corpus, tmp_path, capsys):
    from aalbert.errors import BadInputError

    with pytest.raises(ValueError, match="unknown probe 'deep'"):
        ProbingConfig(probes=["linear", "deep"])
    with pytest.raises(BadInputError, match="out of range"):
        run(config(probe_corpus, "speaker", layers=[5]), tmp_path, ToyUpstream(), progress=False)
    no_alignment = tmp_path / "noalign"
    shutil.copytree(probe_corpus / "train-tiny", no_alignment / "train-tiny")
    rc = main(["-u", "aalbert_3l_random", "--task", "phone", "--data", str(no_alignment), "--out", str(tmp_path / "o")])
    assert rc == 1 and "needs phone alignments" in capsys.readouterr().err


def test_a_missing_alignment_names_the_probes_flag(probe_corpus, tmp_path, capsys):
    # the probe has flags, not a config: the message names its flag, not the downstream key
    no_alignment = tmp_path / "noalign"
    shutil.copytree(probe_corpus / "train-tiny", no_alignment / "train-tiny")
    rc = main(["-u", "aalbert_3l_random", "--task", "phone", "--data", str(no_alignment), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 1 and "needs phone alignments: set --alignment (an s3prl" in err and "data.alignment" not in err


def test_a_bad_flag_value_names_the_flag():
    from aalbert.analysis.probing import build_parser, config_from_args
    from aalbert.config import ConfigError

    for flags, message in (
        (["--epochs", "0"], "--epochs 0: epochs must be >= 1, got 0"),
        (["--dropout", "1.5"], "--dropout 1.5: dropout must be in [0, 1)"),
        (["--probes", "linear,deep"], "--probes linear,deep: unknown probe 'deep'"),
        (["--extract-batch-size", "0"], "--extract-batch-size 0: extract_batch_size must be >= 1"),
    ):
        args = build_parser().parse_args(["--task", "phone", "--data", "corpus", *flags])
        with pytest.raises(ConfigError) as err:
            config_from_args(args)
        assert str(err.value).startswith(message)


def test_probing_reads_a_timit_layout(probe_corpus, tmp_path):
    from corpus_layouts import write_timit

    from aalbert.analysis.probing import build_parser, config_from_args

    timit = write_timit(probe_corpus, tmp_path / "TIMIT", parts={"TRAIN": ["100", "101"], "TEST": ["102"]})
    args = build_parser().parse_args(
        [
            "--task",
            "phone",
            "--data",
            str(timit),
            "--format",
            "timit",
            "--epochs",
            "8",
            "--patience",
            "8",
            "--probes",
            "1hidden",
            "--layers",
            "0",
        ]
    )
    cfg = config_from_args(args)
    cfg.train.lr, cfg.train.batch_size = 1e-2, 4
    rows = run(cfg, tmp_path / "out", ToyUpstream(), progress=False)
    payload = json.loads((tmp_path / "out" / JSON_NAME).read_text())
    assert payload["data"]["phones"] == 39 and payload["data"]["speakers"] == 3
    assert payload["data"]["utterances"] == {"train": 10, "dev": 10, "test": 10}  # TEST folder = test split
    assert rows[0]["test_accuracy"] > 0.5  # tones are easy; the probe sees TIMIT's folded labels


def test_output_folder_flags_match_the_other_commands(tmp_path, monkeypatch):
    from aalbert.analysis.command import checkpoint_words
    from aalbert.analysis.probing import build_parser, output_dir
    from aalbert.config import ConfigError

    monkeypatch.chdir(tmp_path)
    parse = build_parser().parse_args
    base = ["--task", "phone", "--data", "d"]
    # neither -n nor -p: a folder named for what ran, so probes of other upstreams or tasks never share one
    assert output_dir(parse(base), "result/probe", "aalbert", None, "phone") == Path("result/probe/aalbert-phone")
    assert output_dir(
        parse(base), "result/probe", "aalbert_local", checkpoint_words("r/tiny/states-5.ckpt"), "phone"
    ) == (Path("result/probe/aalbert_local-tiny-states-5-phone"))
    assert output_dir(parse([*base, "-n", "x"]), "result/probe") == Path("result/probe/x")
    assert output_dir(parse([*base, "-p", "/abs/o"]), "result/probe") == Path("/abs/o")
    assert output_dir(parse([*base, "--out", "o"]), "result/probe") == Path("o")
    assert (
        parse([*base, "--upstream-ckpt", "c.ckpt"]).upstream_ckpt
        == parse([*base, "-k", "c.ckpt"]).upstream_ckpt
        == "c.ckpt"
    )
    with pytest.raises(ConfigError, match="inside result/probe"):
        output_dir(parse([*base, "-n", "../x"]), "result/probe")
