"""The fluent_commands reader on a generated corpus in the release's layout (aalbert.testing)."""

import csv
import shutil

import pytest

from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.readers.fluent_commands import DATASET_FOLDER
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.errors import MissingFileError
from aalbert.testing.fluent_commands import INTENTS, make_fluent_commands


@pytest.fixture(scope="module")
def fluent(tmp_path_factory):
    """6 speakers x 10 commands: 4 speakers in train_data.csv, 1 in valid, 1 in test."""
    return make_fluent_commands(tmp_path_factory.mktemp("fsc") / DATASET_FOLDER)


@pytest.fixture
def copy(fluent, tmp_path):
    """A copy to break."""
    return shutil.copytree(fluent, tmp_path / DATASET_FOLDER)


def _rows(root, name):
    with (root / "data" / name).open(newline="") as handle:
        return list(csv.reader(handle))


def _write_rows(root, name, rows):
    with (root / "data" / name).open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


def _read(root):
    return read_corpus(CorpusSpec("fluent_commands", [str(root)]))


def test_utterances_slots_words_and_the_csvs_partition(fluent):
    listing = _read(fluent)
    assert len(listing.utterances) == 60
    parts = {
        p: {u.speaker for u in listing.utterances if listing.partition[u.uttid] == p} for p in ("train", "dev", "test")
    }
    assert [len(parts[p]) for p in ("train", "dev", "test")] == [4, 1, 1]
    assert not (parts["train"] & parts["dev"] or parts["train"] & parts["test"] or parts["dev"] & parts["test"])
    by_words = {intent[0]: intent for intent in INTENTS}
    for utt in listing.utterances:
        transcription, action, obj, location = by_words[" ".join(utt.words)]
        assert utt.info == {
            "action": action,
            "object": obj,
            "location": location,
            "intent": f"{action}_{obj}_{location}",
        }
        assert utt.path.parent.name == utt.speaker and utt.uttid == utt.path.stem
        assert utt.path.parent.parent == fluent / "wavs" / "speakers"
        assert utt.num_samples > 0.4 * 16000
    # the first row of valid_data.csv (line 2: the header is line 1) is where its utterance came from
    first = _rows(fluent, "valid_data.csv")[1]
    utt = next(u for u in listing.utterances if u.path == fluent / first[1])
    assert utt.source == f"{fluent / 'data' / 'valid_data.csv'}:2"
    assert listing.partition[utt.uttid] == "dev" and utt.speaker == first[2]


def test_the_folder_holding_the_dataset_is_read_too(fluent):
    assert len(_read(fluent.parent).utterances) == 60


def test_a_missing_audio_file_is_reported_against_its_csv_line(copy):
    row = _rows(copy, "test_data.csv")[3]
    (copy / row[1]).unlink()
    with pytest.raises(CorpusValidationError) as err:
        _read(copy)
    assert err.value.problems == [f"{copy / 'data' / 'test_data.csv'}:4: audio file not found: {copy / row[1]}"]


def test_broken_rows_are_all_reported_with_their_file_and_line(copy):
    train = _rows(copy, "train_data.csv")
    train[2] = train[2][:-1]  # a row lacking its location
    train[3][5] = ""  # an empty object
    train[4][3] = "Turn on the lights, please\nnow"  # quoted: one row over two lines, not a problem
    _write_rows(copy, "train_data.csv", train)
    test = _rows(copy, "test_data.csv")
    test.append([str(len(test) - 1), *train[6][1:]])  # an utterance of train listed again in test
    _write_rows(copy, "test_data.csv", test)
    with pytest.raises(CorpusValidationError) as err:
        _read(copy)
    train_csv, test_csv = copy / "data" / "train_data.csv", copy / "data" / "test_data.csv"
    # lines after the two-line row count both of its lines
    assert err.value.problems == [
        f"{train_csv}:3: 6 fields, the header names 7",
        f"{train_csv}:4: row lacks object",
        f"{test_csv}:{len(test)}: utterance {(copy / train[6][1]).stem} is listed twice (also at {train_csv}:8)",
    ]


def test_a_header_without_the_columns_and_a_missing_csv(copy):
    rows = _rows(copy, "valid_data.csv")
    rows[0][4] = "intent"  # "action" renamed
    _write_rows(copy, "valid_data.csv", rows)
    (copy / "data" / "test_data.csv").unlink()
    with pytest.raises(CorpusValidationError) as err:
        _read(copy)
    assert len(err.value.problems) == 2
    assert err.value.problems[0].startswith(f"{copy / 'data' / 'valid_data.csv'}:1: header lacks column(s) action")
    assert err.value.problems[1].startswith(f"{copy / 'data' / 'test_data.csv'}: not found")


def test_a_folder_that_is_not_the_dataset(tmp_path):
    with pytest.raises(MissingFileError, match="does not look like Fluent Speech Commands"):
        _read(tmp_path)
