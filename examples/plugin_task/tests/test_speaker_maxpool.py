"""The example task's own tests, written with aalbert.testing (run by aalbert's CI too)."""

import torch
from aalbert_plugin_example.upstream import toy_bands

from aalbert.downstream.registry import load_task
from aalbert.testing import make_tone_corpus, train_task


def test_task_is_found_through_its_entry_point():
    task = load_task("speaker_maxpool")
    assert task.package == "aalbert-plugin-example" and task.version == "0.1.0"


def test_speaker_maxpool_learns_the_speakers(tmp_path):
    corpus = make_tone_corpus(tmp_path / "corpus", speakers=3, utterances=10)
    results = train_task("speaker_maxpool", corpus, tmp_path / "exp", steps=30)
    assert results["metrics"]["test"]["accuracy"] > 0.5  # 3 speakers: chance is 1/3
    assert results["task_package"] == {"name": "aalbert-plugin-example", "version": "0.1.0"}


def test_toy_bands_follows_the_upstream_contract():
    out = toy_bands()([torch.zeros(1600), torch.zeros(3200)])
    assert [h.shape[-1] for h in out["hidden_states"]] == [32] and out["lengths"].tolist() == [11, 21]
