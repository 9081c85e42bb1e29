"""A generated LibriSpeech corpus whose utterances spell their transcripts, letter by letter, in tones.

The layout is LibriSpeech's (``SUBSET/SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac`` and a
``SPEAKER-CHAPTER.trans.txt`` per chapter, words in capitals, ``SPEAKERS.TXT``), with SUPERB ASR's
subsets by default. Each letter (and the apostrophe) sounds as a short tone burst of its own (20-30 ms,
two or three 10 ms frames), the space between words as one more tone, and a silence separates every
two symbols: a doubled letter is two bursts with a gap, as CTC needs a blank between repeats. The
tones sit at the centres of :class:`~aalbert.testing.TinyUpstream`'s 250 Hz bands, one symbol to a
band, so a tiny upstream and a per-frame CTC head learn to spell in a few hundred steps (bursts, not
held tones: on 60-100 ms tones the head learnt to fire on a tone's edges, which varied between
utterances; test CER stayed at 0.25-0.3 where bursts reach 0.15). Speakers differ by a slight
detuning and loudness and are distinct in every subset, as LibriSpeech's are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE

# words in capitals from a small vocabulary; repeated letters (LL, EE, OO) and an apostrophe included
VOCABULARY = ("CAT", "DOG", "HELLO", "TREE", "MOON", "SKY", "IT'S", "BLUE", "FIVE", "JUMP", "QUIZ", "WAX")
SYMBOLS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ'"
BAND_HZ = 250.0  # TinyUpstream's band width: 5 STFT bins of 50 Hz


def symbol_tone(symbol: str) -> float:
    """Hz: letters and the apostrophe at band centres from 600 Hz up; the word boundary (" ") at 350 Hz."""
    band = 1 if symbol == " " else 2 + SYMBOLS.index(symbol)
    return band * BAND_HZ + 100.0  # the middle bin of the band's five


def _utterance_wave(words: list[str], rng: np.random.Generator, detune: float, loudness: float) -> np.ndarray:
    def silence(low: float, high: float) -> np.ndarray:
        return 0.01 * rng.standard_normal(int(rng.uniform(low, high) * SAMPLE_RATE))

    def tone(symbol: str) -> np.ndarray:
        n = int(rng.uniform(0.02, 0.03) * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        ramp = np.minimum(1.0, np.minimum(t, t[::-1]) / 0.005)  # 5 ms fades: no clicks across bands
        wave = loudness * ramp * np.sin(2 * np.pi * (symbol_tone(symbol) + detune) * t + rng.uniform(0, 6))
        return wave + 0.01 * rng.standard_normal(n)

    pieces = [silence(0.1, 0.2)]
    for w, word in enumerate(words):
        if w:
            pieces += [tone(" "), silence(0.03, 0.05)]
        for letter in word:
            pieces += [tone(letter), silence(0.03, 0.05)]
    pieces.append(silence(0.05, 0.15))
    return np.concatenate(pieces).astype(np.float32)


def make_spelled_corpus(
    root: str | Path,
    speakers: int = 2,
    utterances: int = 10,
    seed: int = 0,
    subsets: tuple[str, ...] = ("train-clean-100", "dev-clean", "test-clean"),
    words: tuple[int, int] = (2, 4),
) -> Path:
    """Write ``speakers`` speakers (one chapter each) x ``utterances`` utterances of ``words`` (fewest,
    most) words from :data:`VOCABULARY` into every subset of ``subsets``; returns ``root``.

    Speaker ids are numbered across subsets (no speaker in two subsets); ``SPEAKERS.TXT`` names each
    one's subset and sex (alternating M, F)."""
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows = []
    for s_index, subset in enumerate(subsets):
        for k in range(speakers):
            number = s_index * speakers + k
            speaker, chapter = str(1000 + number), str(10 + number)
            detune, loudness = rng.uniform(-25.0, 25.0), rng.uniform(0.45, 0.5)
            folder = root / subset / speaker / chapter
            folder.mkdir(parents=True, exist_ok=True)
            lines = []
            for u in range(utterances):
                uttid = f"{speaker}-{chapter}-{u:04d}"
                transcript = [str(w) for w in rng.choice(VOCABULARY, size=int(rng.integers(words[0], words[1] + 1)))]
                soundfile.write(
                    folder / f"{uttid}.flac", _utterance_wave(transcript, rng, detune, loudness), SAMPLE_RATE
                )
                lines.append(f"{uttid} {' '.join(transcript)}\n")
            (folder / f"{speaker}-{chapter}.trans.txt").write_text("".join(lines))
            rows.append(f"{speaker:<5}| {'MF'[number % 2]} | {subset:<16} | 0.5 | spelled speaker {number}\n")
    (root / "SPEAKERS.TXT").write_text("; ID   |SEX| SUBSET           |MINUTES| NAME\n" + "".join(rows))
    return root
