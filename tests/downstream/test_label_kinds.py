"""Label kinds declared once: categorical and numeric metadata per utterance or speaker (from the
reader or data.metadata files), symbol sequences from transcripts; batches carry them as tensors."""

import json
import logging

import pytest
import torch

from aalbert.config import ConfigError
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import UtteranceDataset, collate, load_corpus
from aalbert.downstream.data.label_kinds import LabelSpec, parse_label
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.task_labels import label_names, task_data
from aalbert.errors import BadInputError, TaskRequirementError
from aalbert.testing import make_scored_corpus, make_tone_corpus


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    return make_scored_corpus(tmp_path_factory.mktemp("scored"), layout="librispeech", speakers=4, utterances=6)


@pytest.fixture(scope="module")
def scored_kaldi(tmp_path_factory):
    return make_scored_corpus(tmp_path_factory.mktemp("scored_kaldi"), layout="kaldi", speakers=4, utterances=6)


def written(root, per):
    values = json.loads((root / "scores.json").read_text())
    return values["utterances" if per == "utterance" else "speakers"]


def load(root, labels, policy="per_speaker", **data):
    return load_corpus(DataConfig(roots=[str(root)], **data), task_data(labels, policy, "t"))


def batch_of(corpus, split="train"):
    return collate([UtteranceDataset(corpus.splits[split], corpus, with_audio=False)[i] for i in range(3)])


@pytest.mark.parametrize(
    "label, spec",
    [
        ("speaker", LabelSpec("speaker", "speaker")),
        ("speaker.gender", LabelSpec("speaker.gender", "speaker_metadata", "gender")),
        ("utterance.age:numeric", LabelSpec("utterance.age:numeric", "utterance_metadata", "age", True)),
        ("speaker.age:categorical", LabelSpec("speaker.age:categorical", "speaker_metadata", "age")),
        ("sequence.characters", LabelSpec("sequence.characters", "sequence", "characters")),
        ("frame.vad", LabelSpec("frame.vad", "frame", "vad")),
    ],
)
def test_label_names_parse_into_kinds(label, spec):
    assert parse_label(label) == spec


@pytest.mark.parametrize("label", ["utterance.age:float", "sequence.letters", "frame.", "speaker.", "words"])
def test_an_unknown_label_lists_the_kinds(label):
    with pytest.raises(TaskRequirementError, match=r"unknown label .* use frame_phones, frame\.NAME, .*:numeric"):
        parse_label(label)


def test_metadata_files_give_numeric_and_categorical_labels_as_tensors(scored):
    labels = ("utterance.loudness:numeric", "speaker.age:numeric", "speaker.gender", "sequence.characters")
    corpus = load(scored, labels, metadata=[{"path": "scores.csv", "per": "utterance", "key": "uttid"}, "spk2age"])
    batch = batch_of(corpus)
    utt_values, spk_values = written(scored, "utterance"), written(scored, "speaker")
    loudness = batch.labels["utterance.loudness:numeric"]
    assert loudness.dtype == torch.float32 and loudness.shape == (3,)
    expected = [utt_values[u]["loudness"] for u in batch.uttids]
    assert loudness.tolist() == pytest.approx(expected, abs=1e-4)
    speakers = [corpus.speakers[int(i)] for i in batch.speakers]
    assert batch.labels["speaker.age:numeric"].tolist() == pytest.approx([spk_values["age"][s] for s in speakers])
    genders = label_names(corpus, "speaker.gender")
    assert [genders[i] for i in batch.labels["speaker.gender"].tolist()] == [
        corpus.speaker_info[s]["gender"] for s in speakers
    ]
    chars = label_names(corpus, "sequence.characters")
    first = batch.labels["sequence.characters"][0]
    assert first.dtype == torch.long
    utt = next(u for u in corpus.splits["train"] if u.uttid == batch.uttids[0])
    assert "".join(chars[i] for i in first.tolist()) == "|".join(utt.words)


def test_kaldi_utt2x_and_spk2x_files_are_metadata_without_a_plugin(scored_kaldi):
    corpus = load(scored_kaldi, ("utterance.pitch:numeric", "speaker.age:numeric"), format="kaldi")
    batch = batch_of(corpus)
    utt_values = written(scored_kaldi.parent, "utterance")
    assert batch.labels["utterance.pitch:numeric"].tolist() == pytest.approx(
        [utt_values[u]["pitch"] for u in batch.uttids], abs=1e-3
    )


def test_a_value_that_is_not_a_number_names_its_file(scored, tmp_path):
    table = tmp_path / "scores.csv"
    table.write_text(
        "uttid,score\n" + "".join(f"{u},{'n/a' if i == 2 else i}\n" for i, u in enumerate(written(scored, "utterance")))
    )
    with pytest.raises(BadInputError, match=rf"{table}: utterance.score:numeric of .* is 'n/a', not a finite number"):
        load(scored, ("utterance.score:numeric",), metadata=[{"path": str(table), "per": "utterance", "key": "uttid"}])


def test_utterances_lacking_a_field_are_left_out_and_counted(scored, tmp_path, caplog):
    ids = sorted(written(scored, "utterance"))
    kept = ids[:-2]
    (tmp_path / "utt2score").write_text("".join(f"{u} {i}\n" for i, u in enumerate(kept)))
    with caplog.at_level(logging.WARNING):
        corpus = load(scored, ("utterance.score:numeric",), metadata=[str(tmp_path / "utt2score")])
    used = {u.uttid for part in corpus.splits.values() for u in part}
    assert used == set(kept)
    assert sum(n for counts in corpus.skipped_labels.values() for n in counts.values()) == 2
    assert "have no utterance.score:numeric and are left out" in caplog.text


def test_a_field_no_utterance_has_is_an_error_naming_what_was_found(scored):
    with pytest.raises(TaskRequirementError, match=r"reads utterance\.agee:numeric, but no utterance .* has 'agee'"):
        load(scored, ("utterance.agee:numeric",), metadata=[{"path": "scores.csv", "per": "utterance", "key": "uttid"}])


def test_json_and_tsv_tables(scored, tmp_path):
    values = written(scored, "utterance")
    (tmp_path / "t.json").write_text(json.dumps({u: {"mos": i / 10} for i, u in enumerate(values)}))
    (tmp_path / "t.tsv").write_text("id\tgrade\n" + "".join(f"{u}\t{'ab'[i % 2]}\n" for i, u in enumerate(values)))
    corpus = load(
        scored,
        ("utterance.mos:numeric", "utterance.grade"),
        metadata=[
            {"path": str(tmp_path / "t.json"), "per": "utterance"},
            {"path": str(tmp_path / "t.tsv"), "per": "utterance", "key": "id"},
        ],
    )
    order = list(values)
    batch = batch_of(corpus)
    assert batch.labels["utterance.mos:numeric"].tolist() == pytest.approx([order.index(u) / 10 for u in batch.uttids])
    assert label_names(corpus, "utterance.grade") == ["a", "b"]


def test_word_labels_map_words_unseen_in_train_to_unk(scored):
    corpus = load(scored, ("sequence.words",))
    words = label_names(corpus, "sequence.words")
    assert words[-1] == "<unk>" and set(words[:-1]) == {w for u in corpus.splits["train"] for w in u.words}


def test_a_task_config_may_name_the_labels(tmp_path):
    config = build_config("speaker_utterance", overrides=["labels=[utterance.score:numeric]"])
    assert config.labels == ["utterance.score:numeric"]


def test_reader_options_an_unknown_one_names_the_reader_and_where(tmp_path):
    with pytest.raises(
        ConfigError, match=r"^-o data\.options\.vad=energy: the librispeech reader takes no options, got vad"
    ):
        build_config("speaker_utterance", overrides=["data.options.vad=energy"])


def test_the_split_log_says_what_was_done(tmp_path, caplog):
    root = make_tone_corpus(str(tmp_path / "c"), speakers=3, utterances=10)
    with caplog.at_level(logging.INFO):
        load(root, ("speaker",))
    assert (
        "splits: seeded (data.split_seed=1337, data.split_policy=task: per_speaker): each speaker's utterances 8:1:1"
        in caplog.text
    )
    assert (
        "train 24 utterances / 3 speakers, dev 3 utterances / 3 speakers, test 3 utterances / 3 speakers" in caplog.text
    )


def test_options_a_task_config_gives_can_be_cleared_for_another_reader():
    with pytest.raises(ConfigError, match=r"the kaldi reader takes no options, got"):
        build_config("speaker_verification", overrides=["data.format=kaldi"])
    config = build_config("speaker_verification", overrides=["data.format=kaldi", "data.options=null"])
    assert config.data.options == {} and config.data.corpus_spec().options == {}


def test_a_frame_label_source_with_a_typo_names_the_override():
    with pytest.raises(
        ConfigError, match=r"^-o data\.frame_labels\.vad\.format=rtm: .*'rtm' is not one of 'textgrid', 'rttm', 's3prl'"
    ):
        build_config("phone_linear", overrides=["data.frame_labels.vad.format=rtm", "data.frame_labels.vad.path=x"])
