"""aalbert.testing takes str paths as readily as Path ones (make_tone_corpus("str") once failed inside)."""

import json
from pathlib import Path

from aalbert.testing import make_tone_corpus, train_task


def test_make_tone_corpus_takes_a_relative_str(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root = make_tone_corpus("corpus", speakers=2, utterances=2)
    assert isinstance(root, Path)
    assert len(list((tmp_path / "corpus").rglob("*.flac"))) == 4
    assert (tmp_path / "corpus" / "alignment" / "converted_aligned_phones.txt").is_file()


def test_train_task_takes_str_paths_with_yaml_characters(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = "tones, v2: #1"  # commas, colons and # are YAML syntax inside an -o value
    make_tone_corpus(name, speakers=3, utterances=6)
    results = train_task("phone_linear", name, "exp dir", steps=4)
    assert set(results["metrics"]["test"]) >= {"accuracy", "loss"}
    saved = json.loads((tmp_path / "exp dir" / "results.json").read_text())
    assert saved["config"]["data"]["roots"] == [name]
