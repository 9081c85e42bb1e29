"""Metadata from files (aalbert.corpus.metadata): Kaldi utt2X / spk2X and tables, what `corpus inspect` shows."""

import json

import pytest

from aalbert.corpus.__main__ import main
from aalbert.corpus.metadata import MetadataFile, kaldi_field, read_kaldi_file
from aalbert.corpus.problems import Problems
from aalbert.testing import make_scored_corpus


@pytest.mark.parametrize(
    "name, field",
    [("spk2age", ("speaker", "age")), ("utt2score", ("utterance", "score")), ("spk2utt", None), ("utt2spk", None)],
)
def test_kaldi_file_names_say_whose_field(tmp_path, name, field):
    assert kaldi_field(tmp_path / name) == field


def test_kaldi_lines_keep_values_with_spaces_and_report_bad_lines(tmp_path):
    path = tmp_path / "utt2text"
    path.write_text("u1 hello there\nu2\nu1 again\n")
    problems = Problems("t")
    assert read_kaldi_file(path, problems) == {"u1": "hello there"}
    assert len(problems.items) == 2
    assert "utt2text:2" in problems.items[0] and "expected KEY VALUE, got 'u2'" in problems.items[0]
    assert "utt2text:3" in problems.items[1] and "u1 listed twice" in problems.items[1]


def test_table_format_follows_the_file_name():
    assert [MetadataFile(p).resolved_format() for p in ("a.csv", "a.TSV", "x.json", "utt2age")] == [
        "csv",
        "tsv",
        "json",
        "kaldi",
    ]


def test_corpus_inspect_shows_metadata_files_and_refuses_unknown_reader_options(tmp_path, capsys):
    root = make_scored_corpus(tmp_path / "c", speakers=2, utterances=3)
    assert main(["inspect", str(root), "--json", "--metadata", "utterance:scores.csv", "--metadata", "spk2age"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["utterance_metadata"]["pitch"]["utterances"] == 6
    assert sorted(summary["speaker_metadata"]["age"]["values"]) == sorted(
        str(v) for v in json.loads((root / "scores.json").read_text())["speakers"]["age"].values()
    )
    assert main(["inspect", str(root), "--option", "vad=energy"]) == 1
    assert "the librispeech reader takes no options, got vad" in capsys.readouterr().err
