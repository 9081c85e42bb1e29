"""The ``files`` reader: plain audio folders, files and .txt lists, what pretraining reads."""

import numpy as np
import pytest
import soundfile

from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.errors import BadInputError


def write(path, samples: int, rate: int = 16000):
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.zeros(samples, dtype=np.float32), rate)
    return path


def test_files_in_path_order_with_their_lengths(tmp_path):
    b = write(tmp_path / "b" / "x.flac", 1600)
    a = write(tmp_path / "a" / "z.wav", 3200)
    listing = read_corpus(CorpusSpec("files", [str(tmp_path)]))
    assert [(u.path, u.uttid, u.speaker, u.start, u.num_samples) for u in listing.utterances] == [
        (a, "z", "", 0, 3200),
        (b, "x", "", 0, 1600),
    ]
    assert listing.unusable == []


def test_unusable_files_are_skipped_by_name_with_a_warning(tmp_path):
    write(tmp_path / "good.flac", 1600)
    write(tmp_path / "fast.wav", 1600, rate=8000)
    (tmp_path / "junk.flac").write_bytes(b"not audio" * 10)
    (tmp_path / "list.txt").write_text("good.flac\nmissing.flac\n")
    with pytest.warns(UserWarning, match="skipping") as record:
        listing = read_corpus(CorpusSpec("files", [str(tmp_path), str(tmp_path / "list.txt")]))
    assert [u.path.name for u in listing.utterances] == ["good.flac"]
    assert len(record) == len(listing.unusable) == 3
    assert [p.split(": ", 1)[0].rsplit("/", 1)[-1] for p in listing.unusable] == [
        "fast.wav",
        "junk.flac",
        "missing.flac",
    ]
    assert sum(listing.skipped.values()) == 3


def test_no_usable_file_is_one_clear_error(tmp_path):
    (tmp_path / "junk.flac").write_bytes(b"junk")
    with pytest.warns(UserWarning), pytest.raises(BadInputError, match=r"no usable audio .*1 file\(s\) skipped"):
        read_corpus(CorpusSpec("files", [str(tmp_path)]))
