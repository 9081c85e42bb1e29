"""A generated corpus with numeric metadata that is a known function of the audio (regression tests).

Each utterance is a sustained tone (its ``pitch``, Hz) over the speaker's voice tone and a little
noise, the whole wave scaled by a gain (its ``loudness``, dB); each speaker's voice tone follows its
``age``. So ``utterance.pitch``, ``utterance.loudness`` and ``speaker.age`` can each be read off the
spectrum, and a regression head trained a few steps must find them; the same values shuffled across
utterances cannot be learnt, which is how a test tells a working pipeline from one that only fits
the targets' mean.

Loudness survives only front ends that keep the level: :class:`~aalbert.testing.TinyUpstream` does
(log band energies), but aalbert's and s3prl's feature front ends normalise every wave to
``audio.target_level`` (-25 dB) first, which erases it; pitch and age survive both.

Two layouts, both read by the project's readers, with the metadata given through ``data.metadata``:

* ``librispeech``: ``ROOT/train-tiny/SPK/7/SPK-7-UUUU.flac``, ``SPK-7.trans.txt``, ``SPEAKERS.TXT``
  (genders), ``ROOT/scores.csv`` (``uttid,loudness,pitch``) and ``ROOT/spk2age`` (Kaldi style)::

      data:
        metadata:
          - {path: scores.csv, per: utterance, key: uttid}
          - spk2age

* ``kaldi``: ``ROOT/audio/SPK/UTT.flac`` and the data directory ``ROOT/data`` with ``wav.scp`` (paths
  relative to ROOT), ``utt2spk``, ``spk2utt``, ``spk2gender``, ``text``, ``utt2loudness``,
  ``utt2pitch`` and ``spk2age`` (the Kaldi reader reads every ``utt2X`` / ``spk2X`` file itself).

:func:`make_scored_corpus` returns the folder ``data.roots`` takes (ROOT, or ``ROOT/data``); the
values written are in ``ROOT/scores.json`` (``{"utterances": {uttid: {...}}, "speakers": {...}}``).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.errors import BadInputError

LAYOUTS = ("librispeech", "kaldi")
LOUDNESS_DB = (-24.0, 0.0)  # the gain applied to each utterance's wave
PITCH_HZ = (300.0, 2800.0)  # each utterance's tone
AGE_YEARS = (20, 80)  # each speaker's age; its voice tone is voice_tone(age)
WORDS = ("a", "tone", "high", "low", "sound", "again")  # transcripts, so the layouts are complete


def voice_tone(age: int) -> float:
    """A speaker's constant voice tone (Hz): 3.2 kHz at 20, 30 Hz higher per year (above every pitch)."""
    return 3200.0 + 30.0 * (age - AGE_YEARS[0])


def _speaker_id(index: int) -> str:
    return str(200 + index)


def make_scored_corpus(
    root: str | Path,
    layout: Literal["librispeech", "kaldi"] = "librispeech",
    speakers: int = 6,
    utterances: int = 10,
    seed: int = 0,
) -> Path:
    """Write the corpus under ``root`` (created) and return what ``data.roots`` takes: ``root`` for
    ``librispeech``, the data directory ``root/data`` for ``kaldi``. Same seed, same audio and values
    in both layouts. ~0.1 s for 60 utterances."""
    if layout not in LAYOUTS:
        raise BadInputError(f"make_scored_corpus: layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ages = {_speaker_id(s): int(rng.integers(AGE_YEARS[0], AGE_YEARS[1])) for s in range(speakers)}
    genders = {spk: "f" if s % 2 else "m" for s, spk in enumerate(ages)}
    values: dict[str, dict[str, float]] = {}
    words: dict[str, list[str]] = {}
    paths: dict[str, Path] = {}
    for spk, age in ages.items():
        for u in range(utterances):
            uttid = f"{spk}-7-{u:04d}"
            loudness = round(float(rng.uniform(*LOUDNESS_DB)), 2)
            pitch = round(float(rng.uniform(*PITCH_HZ)), 1)
            n = int(rng.integers(6400, 11200))  # 0.4 .. 0.7 s
            t = np.arange(n) / SAMPLE_RATE
            wave = 0.3 * np.sin(2 * np.pi * pitch * t + rng.uniform(0, 6))
            wave += 0.2 * np.sin(2 * np.pi * voice_tone(age) * t + rng.uniform(0, 6))
            wave += 0.02 * rng.standard_normal(n)
            wave *= 10 ** (loudness / 20)
            if layout == "librispeech":
                path = root / "train-tiny" / spk / "7" / f"{uttid}.flac"
            else:
                path = root / "audio" / spk / f"{uttid}.flac"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, wave.astype(np.float32), SAMPLE_RATE)
            values[uttid] = {"loudness": loudness, "pitch": pitch}
            words[uttid] = [str(w) for w in rng.choice(WORDS, size=3)]
            paths[uttid] = path
    (root / "scores.json").write_text(json.dumps({"utterances": values, "speakers": {"age": ages}}, indent=1))
    if layout == "librispeech":
        _write_librispeech(root, values, words, ages, genders)
        return root
    return _write_kaldi(root, values, words, paths, ages, genders)


def _lines(table: dict[str, object]) -> str:
    return "".join(f"{key} {value}\n" for key, value in sorted(table.items()))


def _write_librispeech(root, values, words, ages, genders) -> None:
    for spk in ages:
        ids = sorted(u for u in words if u.startswith(f"{spk}-"))
        text = "".join(f"{u} {' '.join(words[u]).upper()}\n" for u in ids)
        (root / "train-tiny" / spk / "7" / f"{spk}-7.trans.txt").write_text(text)
    (root / "SPEAKERS.TXT").write_text(
        "; ID | SEX | SUBSET | MINUTES | NAME\n"
        + "".join(f"{spk} | {genders[spk].upper()} | train-tiny | 0.1 | scored speaker {spk}\n" for spk in ages)
    )
    with open(root / "scores.csv", "w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["uttid", "loudness", "pitch"])
        for uttid, fields in sorted(values.items()):
            writer.writerow([uttid, fields["loudness"], fields["pitch"]])
    (root / "spk2age").write_text(_lines(ages))


def _write_kaldi(root, values, words, paths, ages, genders) -> Path:
    data = root / "data"
    data.mkdir(exist_ok=True)
    (data / "wav.scp").write_text(_lines({u: p.relative_to(root).as_posix() for u, p in paths.items()}))
    (data / "utt2spk").write_text(_lines({u: u.split("-")[0] for u in paths}))
    (data / "spk2utt").write_text(
        _lines({spk: " ".join(sorted(u for u in paths if u.startswith(f"{spk}-"))) for spk in ages})
    )
    (data / "spk2gender").write_text(_lines(genders))
    (data / "text").write_text(_lines({u: " ".join(w) for u, w in words.items()}))
    for field in ("loudness", "pitch"):
        (data / f"utt2{field}").write_text(_lines({u: v[field] for u, v in values.items()}))
    (data / "spk2age").write_text(_lines(ages))
    return data
