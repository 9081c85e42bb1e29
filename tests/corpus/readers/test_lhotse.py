"""Lhotse manifests (RecordingSet + SupervisionSet, or a CutSet) through the ``lhotse`` library."""

import json
import subprocess
import sys

import lhotse  # the lhotse extra is part of the test extra: missing, these tests fail
import numpy as np
import pytest
import soundfile
import torch
from corpus_layouts import tone_files, write_lhotse

from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.corpus.utterance import load_utterance_audio


@pytest.mark.parametrize("as_cuts", [False, True])
def test_manifests_give_the_corpus_utterances_with_phone_alignments(tones, tmp_path, as_cuts):
    root = write_lhotse(tones, tmp_path / "m", as_cuts=as_cuts)
    listing = read_corpus(CorpusSpec("lhotse", [str(root)]))
    files = tone_files(tones)
    assert sorted(u.uttid for u in listing.utterances) == sorted(files)
    segments = json.loads((tones / "tone_segments.json").read_text())
    for utt in listing.utterances:
        assert utt.speaker == utt.uttid.split("-")[0] and utt.path == files[utt.uttid]
        assert utt.phone_segments == [tuple(s) for s in segments[utt.uttid]]


def test_supervision_inside_a_long_recording(tmp_path):
    wave = np.random.default_rng(0).uniform(-0.5, 0.5, 32000).astype(np.float32)
    soundfile.write(tmp_path / "rec.wav", wave, 16000, subtype="FLOAT")
    rec = lhotse.Recording.from_file(tmp_path / "rec.wav", recording_id="rec")
    sup = lhotse.SupervisionSegment("u1", "rec", 0.5, 0.25, speaker="s1", text="HI THERE", gender="F")
    lhotse.RecordingSet.from_recordings([rec]).to_file(tmp_path / "recordings.jsonl.gz")
    lhotse.SupervisionSet.from_segments([sup]).to_file(tmp_path / "supervisions.jsonl.gz")
    (utt,) = read_corpus(CorpusSpec("lhotse", [str(tmp_path)])).utterances
    assert (utt.start, utt.num_samples, utt.words) == (8000, 4000, ["HI", "THERE"])
    assert torch.equal(load_utterance_audio(utt), torch.from_numpy(wave[8000:12000]))


def test_command_sources_and_missing_speakers_are_refused(tmp_path):
    rec = lhotse.Recording("r1", [lhotse.AudioSource("command", [0], "sox x.sph -t wav - |")], 16000, 16000, 1.0)
    ok = lhotse.Recording("r2", [lhotse.AudioSource("file", [0], str(tmp_path / "gone.wav"))], 16000, 16000, 1.0)
    sups = [
        lhotse.SupervisionSegment("u1", "r1", 0, 1, speaker="s"),
        lhotse.SupervisionSegment("u2", "r2", 0, 1),
        lhotse.SupervisionSegment("u3", "r3", 0, 1, speaker="s"),
    ]
    lhotse.RecordingSet.from_recordings([rec, ok]).to_file(tmp_path / "recordings.jsonl")
    lhotse.SupervisionSet.from_segments(sups).to_file(tmp_path / "supervisions.jsonl")
    with pytest.raises(CorpusValidationError) as err:
        read_corpus(CorpusSpec("lhotse", [str(tmp_path)]))
    text = str(err.value)
    assert "recording r1" in text and "shell pipeline" in text
    assert "audio file not found" in text and "gone.wav" in text
    assert "recording r3 is in no recordings manifest" in text


def test_phone_alignment_with_a_gap_is_an_error_naming_the_manifest_and_time(tmp_path):
    from aalbert.downstream.config import DataConfig
    from aalbert.downstream.data import TaskData, load_corpus

    wave = 0.1 * np.sin(2 * np.pi * 300 * np.arange(32000) / 16000).astype(np.float32)
    soundfile.write(tmp_path / "rec.wav", wave, 16000)
    rec = lhotse.Recording.from_file(tmp_path / "rec.wav", recording_id="rec")
    # lhotse's TIMIT recipe keeps every .PHN segment; here the one from 0.6 s to 1.26 s is missing
    phones = [("h#", 0.0, 0.2), ("sh", 0.2, 0.2), ("iy", 0.4, 0.2), ("h#", 1.26, 0.74)]
    ali = {"phone": [lhotse.supervision.AlignmentItem(p, start, dur) for p, start, dur in phones]}
    sup = lhotse.SupervisionSegment("u1", "rec", 0.0, 2.0, speaker="s1", alignment=ali)
    lhotse.RecordingSet.from_recordings([rec]).to_file(tmp_path / "recordings.jsonl.gz")
    lhotse.SupervisionSet.from_segments([sup]).to_file(tmp_path / "supervisions.jsonl.gz")
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="lhotse", roots=[str(tmp_path)]), TaskData("frames", "per_speaker"))
    assert "supervisions.jsonl.gz" in str(err.value)
    assert "utterance u1: gap of 0.660 s (10560 samples, 66 frames)" in str(err.value)
    # corpus inspect reads the manifests' phone alignments and checks them the same way
    proc = subprocess.run(
        [sys.executable, "-m", "aalbert", "corpus", "inspect", "--format", "lhotse", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1 and "utterance u1: gap of 0.660 s" in proc.stderr, proc.stderr
