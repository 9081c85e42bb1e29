"""The example regression task's own tests, written with aalbert.testing (run by aalbert's CI too)."""

from aalbert.downstream.registry import load_task
from aalbert.testing import make_scored_corpus, train_task


def test_utterance_pitch_is_found_through_its_entry_point():
    task = load_task("utterance_pitch")
    assert task.package == "aalbert-plugin-example"


def test_utterance_pitch_follows_the_tone(tmp_path):
    # each utterance is a tone whose pitch (Hz) is in the corpus's scores.csv, which config.yaml names
    corpus = make_scored_corpus(tmp_path / "corpus", speakers=4, utterances=30)
    results = train_task("utterance_pitch", corpus, tmp_path / "exp", steps=60)
    assert results["metrics"]["test"]["pearson"] > 0.8  # the pitch is read off the spectrum (measured 0.86-0.98)
    assert results["metrics"]["test"]["mae"] < 400  # Hz (the target's units); predicting the mean gives ~625
