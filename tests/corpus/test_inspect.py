"""``aalbert corpus inspect`` reports what the commands will use: the frame labels the downstream
attaches (ROOT/alignment, or --alignment), phone classes, the split lists it reads (ROOT/splits, or
--splits), speaker and utterance metadata fields with counts."""

import json

import pytest
from tone_corpus import make_tone_corpus

from aalbert.corpus.__main__ import main


@pytest.fixture
def corpus(tmp_path):
    """3 speakers x 10 utterances, 100-7-0003 without an alignment; split lists that put speaker 102
    in dev and test."""
    root = make_tone_corpus(tmp_path / "tones", unaligned=("100-7-0003",))
    ids = {s: [f"{s}-7-{u:04d}" for u in range(10)] for s in (100, 101, 102)}
    lists = {"train": ids[100] + ids[101], "dev": ids[102][:4], "test": ids[102][4:]}
    (root / "splits").mkdir()
    for split, names in lists.items():
        (root / "splits" / f"{split}.txt").write_text("\n".join(names) + "\n")
    return root


def inspect(capsys, *argv: str) -> dict:
    assert main(["inspect", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_reports_the_alignment_splits_and_metadata_the_commands_use(corpus, capsys):
    summary = inspect(capsys, str(corpus))
    assert summary["utterances"] == 30 and summary["speakers"] == 3
    assert summary["frame_labels_from"] == str(corpus / "alignment")
    assert summary["with_frame_phones"] == 29 and summary["phone_classes"] == 5
    assert summary["split_lists"] == str(corpus / "splits")
    assert summary["splits"] == {
        "train": {"utterances": 20, "speakers": 2, "with_frame_phones": 19},
        "dev": {"utterances": 4, "speakers": 1, "with_frame_phones": 4},
        "test": {"utterances": 6, "speakers": 1, "with_frame_phones": 6},
    }
    assert summary["speakers_in_several_splits"] == 1
    assert summary["speaker_metadata"] == {"gender": {"speakers": 3, "values": {"f": 1, "m": 2}}}
    assert summary["utterance_metadata"] == {}  # LibriSpeech has none

    assert main(["inspect", str(corpus)]) == 0
    text = dict(line.split(None, 1) for line in capsys.readouterr().out.splitlines())
    assert text["with_frame_phones"] == "29" and text["phone_classes"] == "5"
    assert text["speaker_metadata"] == "gender (speakers 3, values (f 1, m 2))"
    assert text["splits"].startswith("train (utterances 20, speakers 2, with_frame_phones 19), dev (utterances 4")


def test_flags_name_other_labels_and_lists_and_a_bare_corpus_reports_none(corpus, tmp_path, capsys):
    other = tmp_path / "lists"
    other.mkdir()
    for split, speaker in (("train", 100), ("dev", 101), ("test", 102)):
        (other / f"{split}.txt").write_text("".join(f"{speaker}-7-{u:04d}\n" for u in range(10)))
    (corpus / "alignment").rename(tmp_path / "align")
    summary = inspect(capsys, str(corpus), "--splits", str(other), "--alignment", str(tmp_path / "align"))
    assert summary["frame_labels_from"] == str(tmp_path / "align") and summary["with_frame_phones"] == 29
    assert {k: v["speakers"] for k, v in summary["splits"].items()} == {"train": 1, "dev": 1, "test": 1}
    assert summary["speakers_in_several_splits"] == 0

    summary = inspect(capsys, str(corpus), "--splits", str(other))  # no alignment now
    assert summary["frame_labels_from"] is None and summary["with_frame_phones"] == 0
    assert summary["phone_classes"] is None

    bare = make_tone_corpus(tmp_path / "bare", speakers=2, utterances=3)
    (bare / "alignment" / "converted_aligned_phones.txt").unlink()
    (bare / "alignment" / "phones.txt").unlink()
    (bare / "alignment").rmdir()
    summary = inspect(capsys, str(bare))
    assert summary["split_lists"] is None and summary["splits"] == {} and summary["with_frame_phones"] == 0


def test_split_lists_naming_unknown_utterances_fail_as_the_downstream_fails(corpus, capsys):
    (corpus / "splits" / "dev.txt").write_text("999-7-0000\n")
    assert main(["inspect", str(corpus)]) == 1
    assert "dev lists 1 utterance(s) not in the librispeech corpus" in capsys.readouterr().err


def test_an_alignment_that_does_not_fit_the_audio_is_listed_as_training_lists_it(corpus, capsys):
    path = corpus / "alignment" / "converted_aligned_phones.txt"
    lines = path.read_text().splitlines()
    lines[0] = lines[0] + " 1" * 20  # 20 frames too many
    path.write_text("\n".join(lines) + "\n")
    assert main(["inspect", str(corpus)]) == 1
    assert "utterance 100-7-0000: " in capsys.readouterr().err
