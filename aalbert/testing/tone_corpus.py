"""A generated tone corpus in LibriSpeech layout with exact alignments, speakers and metadata.

Phones are tones, each speaker adds a constant tone of its own and (with ``audible_gender``)
each gender a tone of its own (100 Hz or 7.8 kHz), so phones, speakers and gender are easy to
read off the spectrum: heads trained a few steps must find them. No eSpeak, no downloads: a corpus of 3 x 10 utterances takes ~0.1 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.corpus.frames import segment_frame_labels

SR = SAMPLE_RATE  # the name task authors import (aalbert.testing.SR)
PHONES = ["sil", "aa", "iy", "s", "m"]
PHONE_TONES = {1: 500.0, 2: 1100.0, 3: 1900.0, 4: 2900.0}  # Hz; silence has no tone
SPEAKER_TONES = [3600.0, 5000.0, 6600.0]  # a constant "voice" tone per speaker
GENDER_TONES = {"m": 100.0, "f": 7800.0}  # a constant tone per gender, apart from the rest


def speaker_gender(index: int) -> str:
    """Speakers alternate m, f, m, ... (written to SPEAKERS.TXT)."""
    return "f" if index % 2 else "m"


def speaker_tone(index: int) -> float:
    # beyond the first three, voices spread from 3.1 kHz up (below the female tone for 17 more speakers)
    return SPEAKER_TONES[index] if index < len(SPEAKER_TONES) else 3100.0 + 230.0 * (index - len(SPEAKER_TONES))


def make_tone_corpus(
    root: str | Path,
    speakers: int = 3,
    utterances: int = 10,
    seed: int = 0,
    unaligned: tuple[str, ...] = (),
    audible_gender: bool = False,
) -> Path:
    """LibriSpeech layout; phones are tones, speakers differ by a constant extra tone. Genders are
    always in ``SPEAKERS.TXT`` (:func:`speaker_gender`); with ``audible_gender`` each gender also
    adds a tone of its own, so a gender task can learn it (off by default: it changes the audio).

    Writes ``alignment/converted_aligned_phones.txt`` + ``alignment/phones.txt`` (s3prl's
    format, one label per 10 ms frame by the project's convention, aalbert.corpus.frames) leaving
    out ``unaligned``, and ``tone_segments.json`` (uttid -> [start, end, phone] in samples) from
    which tests write the same corpus in other layouts.
    """
    root = Path(root)  # a str is as good as a Path here, as everywhere in the toolkit
    rng = np.random.default_rng(seed)
    lines = []
    timed: dict[str, list[list]] = {}
    for s in range(speakers):
        spk = str(100 + s)
        folder = root / "train-tiny" / spk / "7"
        folder.mkdir(parents=True, exist_ok=True)
        for u in range(utterances):
            uttid = f"{spk}-7-{u:04d}"
            segs = [0] + list(rng.integers(1, len(PHONES), size=5)) + [0]
            durs = rng.integers(1200, 2800, size=len(segs))  # 75..175 ms
            pieces, segments, position = [], [], 0
            for ph, n in zip(segs, durs):
                t = np.arange(n) / SR
                x = 0.02 * rng.standard_normal(n)
                if ph:
                    x += 0.5 * np.sin(2 * np.pi * PHONE_TONES[ph] * t + rng.uniform(0, 6))
                x += 0.2 * np.sin(2 * np.pi * speaker_tone(s) * t)
                if audible_gender:
                    x += 0.3 * np.sin(2 * np.pi * GENDER_TONES[speaker_gender(s)] * t)
                pieces.append(x)
                segments.append((position, position + int(n), int(ph)))
                position += int(n)
            wave = np.concatenate(pieces).astype(np.float32)
            soundfile.write(folder / f"{uttid}.flac", wave, SR)
            labels = segment_frame_labels(segments, len(wave), fill=0)
            if uttid not in unaligned:
                timed[uttid] = [[s, e, PHONES[p]] for s, e, p in segments]
                lines.append(uttid + " " + " ".join(map(str, labels)))
    align = root / "alignment"
    align.mkdir(exist_ok=True)
    (align / "converted_aligned_phones.txt").write_text("\n".join(lines) + "\n")
    (align / "phones.txt").write_text("".join(f"{i} {p}\n" for i, p in enumerate(PHONES)))
    (root / "tone_segments.json").write_text(json.dumps(timed))
    (root / "SPEAKERS.TXT").write_text(
        "; ID | SEX | SUBSET | MINUTES | NAME\n"
        + "".join(
            f"{100 + s} | {speaker_gender(s).upper()} | train-tiny | 0.1 | tone speaker {s}\n" for s in range(speakers)
        )
    )
    return root
