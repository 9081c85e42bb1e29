import csv
import json
import shutil
from collections import Counter

import pytest
import torch

from aalbert.downstream.feature_cache import FeatureCache, extract_features
from aalbert.analysis.probe import ProbeTrainConfig, SplitFeatures, train_probe
from aalbert.analysis.probing import CSV_NAME, JSON_NAME, PNG_NAME, ProbingConfig, main, run
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import Corpus, Utterance, load_corpus
from aalbert.downstream.expert import TaskContext
from aalbert.downstream.speaker import SpeakerUtteranceExpert

from analysis_fakes import ToyUpstream

FAST = dict(lr=1e-2, batch_size=4, dropout=0.0)


def config(corpus_root, task, **kw) -> ProbingConfig:
    train = ProbeTrainConfig(**{"epochs": 8, "patience": 8, **FAST, **kw.pop("train", {})})
    return ProbingConfig(upstream="toy", task=task, data=DataConfig(root=str(corpus_root)), train=train, **kw)


def test_cli_writes_layer_by_probe_table_and_plot(probe_corpus, tiny_aalbert_ckpt, tmp_path):
    out = tmp_path / "probe"
    rc = main(["-u", "aalbert_local", "-k", str(tiny_aalbert_ckpt), "--task", "phone", "--probes", "linear,2hidden",
               "--layers", "0,3", "--data", str(probe_corpus), "--epochs", "1", "--out", str(out), "--no-progress"])
    assert rc == 0
    with open(out / CSV_NAME) as f:
        rows = list(csv.DictReader(f))
    assert [(r["layer"], r["probe"]) for r in rows] == [("0", "linear"), ("0", "2hidden"), ("3", "linear"),
                                                         ("3", "2hidden")]
    for r in rows:
        assert 0.0 <= float(r["dev_accuracy"]) <= 1.0 and 0.0 <= float(r["test_accuracy"]) <= 1.0
    payload = json.loads((out / JSON_NAME).read_text())
    assert payload["task"] == "phone" and payload["upstream"]["num_layers"] == 3
    assert payload["data"]["utterances"] == {"train": 24, "dev": 3, "test": 3}  # seeded 8:1:1 per speaker
    assert len(payload["rows"]) == 4 and payload["settings"]["probes"] == ["linear", "2hidden"]
    assert (out / PNG_NAME).read_bytes()[:4] == b"\x89PNG"


def test_probes_learn_phones_far_above_the_majority_class(probe_corpus, tmp_path):
    rows = run(config(probe_corpus, "phone", probes=["1hidden"], layers=[0], train={"epochs": 4}), tmp_path,
               ToyUpstream(), progress=False)
    corpus = load_corpus(DataConfig(root=str(probe_corpus)), needs_phones=True)
    counts = Counter(p for u in corpus.splits["test"] for p in u.phones)
    majority = max(counts.values()) / sum(counts.values())
    assert rows[0]["test_accuracy"] > max(0.8, majority + 0.3)


def test_speaker_probe_finds_the_speaker(probe_corpus, tmp_path):
    rows = run(config(probe_corpus, "speaker", probes=["linear"], layers=[1]), tmp_path, ToyUpstream(),
               progress=False)
    assert rows[0]["dev_accuracy"] == 1.0 and rows[0]["test_accuracy"] >= 2 / 3  # chance: 1/3


def test_upstream_runs_once_and_disk_cache_is_reused(probe_corpus, tmp_path):
    cache_dir = tmp_path / "cache"
    cfg = config(probe_corpus, "speaker", probes=["linear"], cache_dir=str(cache_dir), extract_batch_size=8,
                 train={"epochs": 2})
    first = ToyUpstream()
    rows = run(cfg, tmp_path / "a", first, progress=False)
    assert len(rows) == 3                           # 3 hidden states probed ...
    assert first.calls == 4                         # ... from one pass: ceil(30 utterances / 8)
    assert len(list((cache_dir / "layer_02").glob("*.pt"))) == 30

    again = ToyUpstream()
    assert run(cfg, tmp_path / "b", again, progress=False) == rows
    assert again.calls == 0                         # same manifest, every file present: reused

    in_memory = ProbingConfig(**{**cfg.__dict__, "cache_dir": None})
    assert run(in_memory, tmp_path / "c", ToyUpstream(), progress=False) == rows

    shutil.rmtree(cache_dir / "layer_01")           # an incomplete cache is rebuilt, not trusted
    rebuilt = ToyUpstream()
    assert run(cfg, tmp_path / "d", rebuilt, progress=False) == rows
    assert rebuilt.calls == 4


def test_cached_features_exclude_padding_and_pool_valid_frames(probe_corpus):
    corpus = load_corpus(DataConfig(root=str(probe_corpus)), needs_phones=False)
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


def synthetic_speaker_splits(signal: float):
    """Two speakers, 8 utterances each per split; features = signal * speaker + noise."""
    gen = torch.Generator().manual_seed(0)
    splits = {}
    for split in ("train", "dev", "test"):
        utts, feats = [], []
        for i in range(16):
            spk = str(i % 2)
            utts.append(Utterance(f"{spk}-{split}-{i}", None, spk))
            feats.append(torch.randn(1, 4, generator=gen) + signal * (1 if spk == "1" else -1))
        splits[split] = SplitFeatures(utts, feats)
    corpus = Corpus({s: v.utterances for s, v in splits.items()}, ["0", "1"])
    return splits, TaskContext(4, 160, corpus)


def test_early_stopping_keeps_the_best_dev_epoch():
    splits, context = synthetic_speaker_splits(signal=3.0)
    # lr 0: dev never improves after the first epoch, so training stops after `patience` more
    frozen = train_probe(SpeakerUtteranceExpert, context, 0, splits,
                         ProbeTrainConfig(epochs=20, patience=2, lr=0.0, batch_size=4), progress=False)
    assert frozen.best_epoch == 1 and frozen.epochs_run == 3
    learned = train_probe(SpeakerUtteranceExpert, context, 1, splits,
                          ProbeTrainConfig(epochs=20, patience=20, lr=1e-2, batch_size=4, max_steps=30), progress=False)
    assert learned.steps == 30 and learned.epochs_run == 8  # 4 steps per epoch: stopped in epoch 8
    assert learned.test["accuracy"] > 0.9


def test_bad_settings_are_clear_errors(probe_corpus, tmp_path, capsys):
    with pytest.raises(ValueError, match="unknown probe 'deep'"):
        ProbingConfig(probes=["linear", "deep"])
    with pytest.raises(ValueError, match="out of range"):
        run(config(probe_corpus, "speaker", layers=[5]), tmp_path, ToyUpstream(), progress=False)
    no_alignment = tmp_path / "noalign"
    shutil.copytree(probe_corpus / "train-tiny", no_alignment / "train-tiny")
    rc = main(["-u", "aalbert_3l", "--task", "phone", "--data", str(no_alignment), "--out", str(tmp_path / "o")])
    assert rc == 2 and "needs phone alignments" in capsys.readouterr().err
