import hashlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from aalbert.corpus.synthetic import CorpusError, espeak, synthesize
from aalbert.corpus.synthetic.phones import PHONES, fold
from aalbert.corpus.synthetic.synth import split_utterances


def _alignments(root: Path) -> dict[str, list[int]]:
    lines = (root / "alignment" / "converted_aligned_phones.txt").read_text().splitlines()
    return {line.split()[0]: [int(x) for x in line.split()[1:]] for line in lines}


def _flacs(root: Path) -> list[Path]:
    return sorted(root.glob("synth/*/*/*.flac"))


def test_librispeech_layout_and_formats(tiny_corpus):
    flacs = _flacs(tiny_corpus)
    assert len(flacs) == 12
    for path in flacs:
        spk, chap, _ = path.stem.split("-")
        assert path.parent.name == chap and path.parent.parent.name == spk
        info = soundfile.info(path)
        assert (info.samplerate, info.channels, info.format, info.subtype) == (16000, 1, "FLAC", "PCM_16")
    trans = sorted(tiny_corpus.glob("synth/*/*/*.trans.txt"))
    assert len(trans) == 3
    for line in trans[0].read_text().splitlines():
        uttid, words = line.split(" ", 1)
        assert (trans[0].parent / f"{uttid}.flac").is_file()
        assert words == words.upper() and 3 <= len(words.split()) <= 6
    speakers = [row for row in (tiny_corpus / "SPEAKERS.TXT").read_text().splitlines() if not row.startswith(";")]
    assert [row.split("|")[0].strip() for row in speakers] == ["100", "101", "102"]
    assert {row.split("|")[1].strip() for row in speakers} == {"M", "F"}
    phones = (tiny_corpus / "alignment" / "phones.txt").read_text().splitlines()
    assert phones[0] == "0 sil" and len(phones) == len(PHONES) == 40
    meta = json.loads((tiny_corpus / "corpus.json").read_text())
    assert meta["spec"]["seed"] == 7 and meta["num_utterances"] == 12 and set(meta["speakers"]) == {"100", "101", "102"}


def test_alignments_match_audio_and_are_plausible(tiny_corpus):
    alignments = _alignments(tiny_corpus)
    durations = []
    for path in _flacs(tiny_corpus):
        labels = alignments[path.stem]
        num_samples = soundfile.info(path).frames
        assert len(labels) == num_samples // 160 + 1  # exactly the feature extractor's frame count
        assert labels[0] == 0 and labels[-1] == 0, "utterances start and end in silence"
        assert all(0 <= x < len(PHONES) for x in labels)
        # segments: runs of one label; speech phones between the silences
        runs = [1]
        for prev, cur in zip(labels, labels[1:]):
            runs[-1:] = [runs[-1] + 1] if cur == prev else [runs[-1], 1]
        segs = np.split(np.array(labels), np.cumsum(runs)[:-1])
        speech = [len(s) * 10 for s in segs if s[0] != 0]
        assert len(speech) >= 5
        durations += speech
        # the labelled speech lies where the audio is loud: silence frames are much quieter
        wave, _ = soundfile.read(path)
        frames = np.array(
            [np.sqrt(np.mean(wave[max(0, 160 * i - 200) : 160 * i + 200] ** 2)) for i in range(len(labels))]
        )
        lab = np.array(labels)
        assert np.median(frames[lab != 0]) > 3 * np.median(frames[lab == 0])
    assert 30 <= np.median(durations) <= 200


def test_splits_are_per_speaker_8_1_1(tiny_corpus):
    splits = {s: (tiny_corpus / "splits" / f"{s}.txt").read_text().split() for s in ("train", "dev", "test")}
    assert sorted(sum(splits.values(), [])) == sorted(p.stem for p in _flacs(tiny_corpus))
    for spk in ("100", "101", "102"):
        assert [sum(u.startswith(spk) for u in ids) for ids in splits.values()] == [2, 1, 1]
    split = split_utterances([f"u{i}" for i in range(20)], seed=3, key="x")
    assert [len(split[s]) for s in ("train", "dev", "test")] == [16, 2, 2]
    assert split == split_utterances([f"u{i}" for i in range(20)], seed=3, key="x")


def _median_f0(path: Path) -> float:
    """Median pitch of voiced 40 ms frames by autocorrelation (60-400 Hz)."""
    wave, sr = soundfile.read(path)
    f0s = []
    for start in range(0, len(wave) - 640, 320):
        frame = wave[start : start + 640] - wave[start : start + 640].mean()
        if np.sqrt(np.mean(frame**2)) < 0.05 * np.max(np.abs(wave)):
            continue
        ac = np.correlate(frame, frame, "full")[639:]
        lo, hi = sr // 400, sr // 60
        lag = lo + int(np.argmax(ac[lo:hi]))
        if ac[lag] > 0.4 * ac[0]:
            f0s.append(sr / lag)
    return float(np.median(f0s))


def test_speakers_differ_consistently(tiny_corpus):
    f0 = {}
    for path in _flacs(tiny_corpus):
        f0.setdefault(path.stem.split("-")[0], []).append(_median_f0(path))
    means = {spk: np.mean(v) for spk, v in f0.items()}
    spread = {spk: np.ptp(v) for spk, v in f0.items()}
    low, high = min(means, key=means.get), max(means, key=means.get)
    # the female voice (101) is clearly higher than both male voices, utterance after utterance
    assert high == "101"
    assert means[high] - means[low] > 2 * max(spread[high], spread[low])


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    kw = dict(speakers=1, utterances=2, words_per_utterance=(2, 4), workers=1, progress=False)
    a = synthesize(tmp_path / "a", seed=11, **kw)
    b = synthesize(tmp_path / "b", seed=11, **kw)
    c = synthesize(tmp_path / "c", seed=12, **kw)
    assert _digest(a) == _digest(b)
    assert _digest(a) != _digest(c)


def test_cached_corpus_is_reused_and_other_parameters_refused(tiny_corpus):
    before = (tiny_corpus / "corpus.json").stat().st_mtime_ns
    assert (
        synthesize(tiny_corpus, speakers=3, utterances=4, seed=7, words_per_utterance=(3, 6), progress=False)
        == tiny_corpus
    )
    assert (tiny_corpus / "corpus.json").stat().st_mtime_ns == before
    with pytest.raises(CorpusError, match="other parameters"):
        synthesize(tiny_corpus, speakers=3, utterances=4, seed=8, words_per_utterance=(3, 6), progress=False)


def test_not_a_corpus_folder_is_never_overwritten(tmp_path):
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(CorpusError, match="not a synthetic corpus"):
        synthesize(tmp_path, speakers=1, utterances=1, progress=False)
    assert (tmp_path / "mine.txt").read_text() == "precious"


def test_missing_espeak_is_a_clear_error(monkeypatch, tmp_path):
    def no_library(name):
        raise OSError(f"{name}: cannot open shared object file")

    monkeypatch.setattr(espeak, "_dlopen", no_library)
    with pytest.raises(CorpusError, match=r"libespeak-ng.so.1 not found: install the Debian package espeak-ng"):
        synthesize(tmp_path / "x", speakers=1, utterances=1, workers=1, progress=False)
    assert not (tmp_path / "x").exists()


def test_unknown_espeak_phoneme_is_an_error():
    assert fold("_:") == "sil" and fold("aI") == "AY"
    with pytest.raises(CorpusError, match="unmapped eSpeak phoneme 'Q9' in utterance 1-2-3"):
        fold("Q9", "utterance 1-2-3")


def test_cli(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "aalbert.corpus",
            "synthesize",
            "--out",
            str(tmp_path / "cli"),
            "--speakers",
            "1",
            "--utterances",
            "1",
            "--min-words",
            "2",
            "--max-words",
            "3",
            "--workers",
            "1",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "1 utterances, 1 speakers" in out.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "aalbert.corpus", "synth", "--out", str(tmp_path / "bad"), "--speakers", "0"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "at least one speaker" in bad.stderr


def test_downstream_readers_load_the_corpus(tiny_corpus):
    from aalbert.downstream.config import DataConfig
    from aalbert.downstream.data.corpus import TaskData, load_corpus

    corpus = load_corpus(DataConfig(roots=[str(tiny_corpus)]), TaskData("frames"))
    assert corpus.speakers == ["100", "101", "102"]
    assert corpus.phone_names == list(PHONES)
    assert sum(len(v) for v in corpus.splits.values()) == 12
    assert corpus.skipped == {"train": 0, "dev": 0, "test": 0}
