"""Readers by name, third-party readers through the ``aalbert.corpus`` entry points, and corpus
specs (``FORMAT:PATH``) wherever a command takes audio roots."""

from importlib import metadata

import numpy as np
import pytest
import soundfile

import aalbert.corpus.registry as registry
from aalbert.corpus.registry import UnknownFormatError, available_formats, get_reader
from aalbert.corpus.sources import source_specs, utterances_from_sources
from aalbert.pretrain.data import BatchDataset, scan_corpus


def test_builtin_formats_and_unknown_name():
    assert {"librispeech", "timit", "kaldi", "lhotse"} <= set(available_formats())
    with pytest.raises(UnknownFormatError, match="unknown corpus format 'nope'.*kaldi"):
        get_reader("nope")


def test_plugin_reader_is_found_by_entry_point(monkeypatch, tmp_path):
    ep = metadata.EntryPoint("myformat", "aalbert.corpus.readers.librispeech:read", registry.ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "plugin_readers", lambda: {"myformat": ep})
    assert "myformat" in available_formats()
    folder = tmp_path / "5" / "1"
    folder.mkdir(parents=True)
    soundfile.write(folder / "5-1-0000.flac", np.zeros(3200, dtype=np.float32), 16000)
    assert [u.uttid for u in utterances_from_sources([f"myformat:{tmp_path}"])] == ["5-1-0000"]


def test_pretraining_roots_take_kaldi_segments(tmp_path):
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, 32000).astype(np.float32)
    soundfile.write(tmp_path / "rec.wav", wave, 16000, subtype="FLOAT")
    d = tmp_path / "data"
    d.mkdir()
    (d / "wav.scp").write_text("rec rec.wav\n")  # relative to the data dir's parent
    (d / "segments").write_text("a rec 0.0 0.5\nb rec 1.0 1.25\n")
    (d / "utt2spk").write_text("a s\nb s\n")
    corpus = scan_corpus(source_specs([f"kaldi:{d}"]), min_samples=400)
    assert [(u.start, u.num_samples) for u in corpus.utterances] == [(0, 8000), (16000, 4000)]
    waves, failed = BatchDataset(corpus, [[0, 1]], max_samples=10**6, seed=0, epoch=0)[0]
    assert not failed and np.array_equal(waves[1].numpy(), wave[16000:20000])
