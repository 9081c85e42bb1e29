"""Kaldi data directories: segments, pooled directories, relative paths, pipelines refused."""

import logging

import numpy as np
import pytest
import soundfile
import torch
from corpus_layouts import tone_files, write_kaldi

from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.corpus.utterance import load_utterance_audio


def _recording(path, seconds=2.0):
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, int(seconds * 16000)).astype(np.float32)
    soundfile.write(path, wave, 16000, subtype="FLOAT")
    return torch.from_numpy(wave)


def test_segments_cut_utterances_out_of_recordings(tmp_path):
    wave = _recording(tmp_path / "rec.wav")
    d = tmp_path / "data"
    d.mkdir()
    (d / "wav.scp").write_text(f"rec1 {tmp_path / 'rec.wav'}\n")
    (d / "segments").write_text("spkA-u1 rec1 0.25 0.75\nspkB-u2 rec1 1.5 -1\n")
    (d / "utt2spk").write_text("spkA-u1 spkA\nspkB-u2 spkB\n")
    (d / "spk2gender").write_text("spkA f\nspkB m\n")
    (d / "text").write_text("spkA-u1 HELLO WORLD\nspkB-u2 GOODBYE\n")
    (d / "reco2dur").write_text("rec1 2.0\n")
    listing = read_corpus(CorpusSpec("kaldi", [str(d)]))
    u1, u2 = sorted(listing.utterances, key=lambda u: u.uttid)
    assert (u1.speaker, u1.start, u1.num_samples, u1.words) == ("spkA", 4000, 8000, ["HELLO", "WORLD"])
    assert (u2.start, u2.num_samples) == (24000, 8000)
    assert torch.equal(load_utterance_audio(u1), wave[4000:12000])
    assert torch.equal(load_utterance_audio(u2), wave[24000:])
    assert listing.speaker_info == {"spkA": {"gender": "f"}, "spkB": {"gender": "m"}}


def test_pooled_directories_and_paths_relative_to_the_corpus_root(tones, tmp_path, caplog):
    # real corpora ship train/wav.scp with paths relative to the corpus root (the data dir's parent)
    files = sorted(tone_files(tones))
    write_kaldi(tones, tones / "train", relative_to=tones, uttids=files[:10])
    write_kaldi(tones, tones / "test", relative_to=tones, uttids=files[10:])
    with caplog.at_level(logging.INFO):
        listing = read_corpus(CorpusSpec("kaldi", [str(tones / "train"), str(tones / "test")]))
    assert sorted(u.uttid for u in listing.utterances) == files
    assert f"resolved against {tones} (its parent folder)" in caplog.text
    # the same paths under an explicit wav_root
    elsewhere = tmp_path / "data"
    write_kaldi(tones, elsewhere, relative_to=tones, uttids=files[:3])
    listing = read_corpus(CorpusSpec("kaldi", [str(elsewhere)], wav_root=str(tones)))
    assert [u.path for u in listing.utterances] == [tone_files(tones)[u] for u in files[:3]]


def test_pipelines_and_missing_files_are_all_reported_with_their_lines(tmp_path):
    _recording(tmp_path / "ok.wav", 0.5)
    d = tmp_path / "data"
    d.mkdir()
    (d / "wav.scp").write_text(f"r1 {tmp_path / 'ok.wav'}\nr2 sox in.sph -t wav - |\nr3 missing.wav\nr4 raw.ark:1234\n")
    (d / "utt2spk").write_text("r1 s\nr2 s\nr3 s\nr4 s\nr5 s\n")
    (d / "segments").write_text("r5 r9 0 1\n")
    with pytest.raises(CorpusValidationError) as err:
        read_corpus(CorpusSpec("kaldi", [str(d)]))
    text = str(err.value)
    assert "4 problem(s)" in text
    assert "wav.scp:2: recording r2 is a shell pipeline" in text and "refused" in text
    assert "wav.scp:3: recording r3: audio file not found" in text
    assert "wav.scp:4: recording r4 points into a Kaldi archive" in text
    assert "segments:1: utterance r5: recording r9 is not in wav.scp" in text


def test_duplicate_ids_across_pooled_dirs_and_missing_files_are_errors(tones, tmp_path):
    a = write_kaldi(tones, tmp_path / "a", uttids=sorted(tone_files(tones))[:2])
    b = write_kaldi(tones, tmp_path / "b", uttids=sorted(tone_files(tones))[1:3])
    with pytest.raises(CorpusValidationError, match="also in"):
        read_corpus(CorpusSpec("kaldi", [str(a), str(b)]))
    (tmp_path / "c").mkdir()
    with pytest.raises(CorpusValidationError, match="wav.scp is missing"):
        read_corpus(CorpusSpec("kaldi", [str(tmp_path / "c")]))
