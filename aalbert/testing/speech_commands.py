"""A generated Speech Commands corpus in the layout it is distributed in (v0.01 and v0.02).

``ROOT/WORD/SPEAKERHASH_nohash_N.wav`` (16 kHz, 16-bit, about 1 s), ``validation_list.txt`` and
``testing_list.txt`` (relative paths; every other file is train), ``_background_noise_/`` with long
noise recordings and its README, and optionally the separate ``speech_commands_test_set_v0.01``
archive (12 folders: the ten keywords, ``_silence_``, ``_unknown_``), which SUPERB tests on.

Each word is a pair of tones of its own, sung one after the other at a random onset: a pooled
spectrum tells the words apart, so a keyword head trained a few steps must learn them. Speakers add
a weak tone of their own in a band no word uses. No downloads; 10 speakers x 12 words take under 1 s.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.corpus.readers.speech_commands import SUPERB_KEYWORDS

# two other words of the corpus: SUPERB's _unknown_ class
DEFAULT_WORDS = (*SUPERB_KEYWORDS, "bed", "cat")
NOISE_FILES = ("white_noise", "pink_noise", "running_tap")  # names from the real _background_noise_
NOISE_SECONDS = 15.0  # the reader crops dev and test silence from 10% of each: 1.5 s


def speaker_hash(index: int, seed: int = 0) -> str:
    """The 8 hex digits the corpus uses for a speaker (a hash, as in the real file names)."""
    return hashlib.sha1(f"{seed}:{index}".encode()).hexdigest()[:8]


def speaker_split(index: int) -> str:
    """Speakers 0-2 of every 5 are train, 3 dev, 4 test: the lists hold whole speakers, as the real
    ones do (the corpus splits by a hash of the speaker), with enough dev and test for small fixtures."""
    return ("train", "train", "train", "dev", "test")[index % 5]


def word_tones(word_index: int) -> tuple[float, float]:
    # 240 Hz apart (about one band of TinyUpstream's 250 Hz bands), below the speakers' band
    first = 400.0 + 240.0 * word_index
    return first, first + 120.0


def _speaker_tone(index: int) -> float:
    return 6600.0 + 90.0 * (index % 12)  # 6.6-7.6 kHz: above every word tone


def _word_wave(rng: np.random.Generator, word_index: int, speaker: int, samples: int) -> np.ndarray:
    t = np.arange(samples) / SAMPLE_RATE
    wave = 0.01 * rng.standard_normal(samples) + 0.05 * np.sin(2 * np.pi * _speaker_tone(speaker) * t)
    length = int(0.5 * SAMPLE_RATE)
    onset = int(rng.integers(0, max(1, samples - length)))
    first, second = word_tones(word_index)
    half = length // 2
    for start, freq in ((onset, first), (onset + half, second)):
        end = min(samples, start + half)
        span = np.arange(end - start) / SAMPLE_RATE
        wave[start:end] += 0.4 * np.sin(2 * np.pi * freq * span + rng.uniform(0, 6))
    return wave


def _noise(rng: np.random.Generator, kind: str, samples: int) -> np.ndarray:
    white = rng.standard_normal(samples)
    if kind == "pink_noise":  # a rough 1/f: running mean of white noise, centred
        pink = np.convolve(white, np.ones(16) / 4.0, mode="same")
        return 0.1 * pink / np.abs(pink).max()
    if kind == "running_tap":  # noise swelling and fading
        return 0.1 * white * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * np.arange(samples) / SAMPLE_RATE))
    return 0.05 * white


def _write(path: Path, wave: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(path, np.clip(wave, -1, 1).astype(np.float32), SAMPLE_RATE, subtype="PCM_16")


def make_speech_commands(
    root: str | Path,
    words: tuple[str, ...] = DEFAULT_WORDS,
    speakers: int = 10,
    seed: int = 0,
    test_set_root: str | Path | None = None,
    repeats: int = 1,
) -> Path:
    """Write the corpus under ``root`` and return it: every speaker says every word ``repeats`` times
    (``HASH_nohash_0.wav``, ``_1``, ...); speakers go to train, dev and test by :func:`speaker_split`
    (``validation_list.txt``, ``testing_list.txt``). Every 7th file is 0.75 s long (real files
    may be shorter than 1 s). ``test_set_root``: also write the v0.01 test archive there, from
    speakers of its own: each keyword once per speaker, one other word per speaker in
    ``_unknown_``, and 1 s noise files in ``_silence_``."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    lists: dict[str, list[str]] = {"dev": [], "test": []}
    count = 0
    for s in range(speakers):
        for w, word in enumerate(words):
            for n in range(repeats):
                count += 1
                samples = SAMPLE_RATE * 3 // 4 if count % 7 == 0 else SAMPLE_RATE
                rel = f"{word}/{speaker_hash(s, seed)}_nohash_{n}.wav"
                _write(root / rel, _word_wave(rng, w, s, samples))
                if speaker_split(s) in lists:
                    lists[speaker_split(s)].append(rel)
    (root / "validation_list.txt").write_text("".join(f"{p}\n" for p in sorted(lists["dev"])))
    (root / "testing_list.txt").write_text("".join(f"{p}\n" for p in sorted(lists["test"])))
    noise = root / "_background_noise_"
    for kind in NOISE_FILES:
        _write(noise / f"{kind}.wav", _noise(rng, kind, int(NOISE_SECONDS * SAMPLE_RATE)))
    (noise / "README.md").write_text("Long recordings of noise, for the _silence_ class.\n")
    if test_set_root is not None:
        _write_test_set(Path(test_set_root), words, speakers, seed, rng)
    return root


def _write_test_set(folder: Path, words: tuple[str, ...], speakers: int, seed: int, rng: np.random.Generator) -> None:
    others = [w for w, word in enumerate(words) if word not in SUPERB_KEYWORDS]
    for s in range(speakers):
        index = 1000 + s  # speakers of its own: the test archive was recorded apart
        name = f"{speaker_hash(index, seed)}_nohash_0.wav"
        for w, word in enumerate(words):
            if word in SUPERB_KEYWORDS:
                _write(folder / word / name, _word_wave(rng, w, index, SAMPLE_RATE))
        if others:
            _write(folder / "_unknown_" / name, _word_wave(rng, others[s % len(others)], index, SAMPLE_RATE))
        kind = NOISE_FILES[s % len(NOISE_FILES)]
        _write(folder / "_silence_" / name, _noise(rng, kind, SAMPLE_RATE))
