"""A generated Fluent Speech Commands corpus in the layout of the release, with audible slots.

``ROOT/data/{train,valid,test}_data.csv`` exactly as distributed (pandas' unnamed index column,
then ``path,speakerId,transcription,action,object,location``) and
``ROOT/wavs/speakers/SPEAKER/UUID.wav`` (16 kHz, 16-bit mono). Each utterance is three tones one
after another, one per slot value (the action's, the object's, then the location's: every value
of every slot has a tone of its own, "none" included), so an intent head trained a few steps
must find all three. Speakers differ by a small pitch offset and loudness; the three CSVs hold
disjoint speakers, as the release's do.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE

# (transcription, action, object, location): wordings and intents of the release
INTENTS = [
    ("Turn on the lights", "activate", "lights", "none"),
    ("Switch off the lights in the kitchen", "deactivate", "lights", "kitchen"),
    ("Turn up the heat in the bedroom", "increase", "heat", "bedroom"),
    ("Turn the volume down", "decrease", "volume", "none"),
    ("Bring me the newspaper", "bring", "newspaper", "none"),
    ("Change language", "change language", "none", "none"),
    ("Play the music", "activate", "music", "none"),
    ("Decrease the heat in the washroom", "decrease", "heat", "washroom"),
    ("Increase the volume", "increase", "volume", "none"),
    ("Lights off in the bedroom", "deactivate", "lights", "bedroom"),
]
SLOTS = ("action", "object", "location")
COLUMNS = ("path", "speakerId", "transcription", *SLOTS)


def _slot_tones() -> dict[tuple[str, str], float]:
    """(slot, value) -> Hz: 450 Hz apart from 400 Hz, so each falls in a band of its own."""
    values = [(slot, v) for i, slot in enumerate(SLOTS) for v in sorted({intent[i + 1] for intent in INTENTS})]
    return {value: 400.0 + 450.0 * k for k, value in enumerate(values)}


SLOT_TONES = _slot_tones()


def _speaker_id(rng: np.random.Generator) -> str:
    """16 letters and digits, as the release names its speakers (e.g. 2BqVo8kVB2Skwgyb)."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return "".join(alphabet[i] for i in rng.integers(0, len(alphabet), size=16))


def _file_id(rng: np.random.Generator) -> str:
    """A time-based UUID's shape, as the release names its wav files."""
    digits = "".join(f"{d:x}" for d in rng.integers(0, 16, size=28))
    return f"{digits[:8]}-{digits[8:12]}-11e9-{digits[12:16]}-{digits[16:]}"


def _wave(intent: tuple[str, str, str, str], shift: float, loudness: float, rng: np.random.Generator) -> np.ndarray:
    pieces = [0.01 * rng.standard_normal(int(rng.integers(800, 2400)))]  # leading silence
    for slot, value in zip(SLOTS, intent[1:]):
        n = int(rng.integers(2400, 4000))  # 150..250 ms
        t = np.arange(n) / SAMPLE_RATE
        tone = np.sin(2 * np.pi * (SLOT_TONES[slot, value] + shift) * t + rng.uniform(0, 6))
        pieces.append(loudness * tone + 0.01 * rng.standard_normal(n))
    pieces.append(0.01 * rng.standard_normal(int(rng.integers(800, 2400))))
    return np.concatenate(pieces).astype(np.float32)


def split_of(index: int, speakers: int) -> str:
    """Which CSV speaker ``index`` of ``speakers`` reads into: the last ones test, those before
    them valid (a fifth each, at least one), the rest train."""
    held = max(1, speakers // 5)
    if index >= speakers - held:
        return "test"
    return "valid" if index >= speakers - 2 * held else "train"


def make_fluent_commands(root: str | Path, speakers: int = 6, utterances: int = 10, seed: int = 0) -> Path:
    """Write the corpus to ``root`` (the ``fluent_speech_commands_dataset`` folder) and return it.

    Speaker ``s`` reads ``utterances`` commands, going round :data:`INTENTS` from intent ``s``
    (10 utterances: every intent once); :func:`split_of` puts it in a CSV (at least 3 speakers).
    """
    if speakers < 3:
        raise ValueError(f"make_fluent_commands needs 3 speakers or more (train, valid, test), got {speakers}")
    root = Path(root)
    rng = np.random.default_rng(seed)
    rows: dict[str, list[list[str]]] = {"train": [], "valid": [], "test": []}
    for s in range(speakers):
        speaker = _speaker_id(rng)
        folder = root / "wavs" / "speakers" / speaker
        folder.mkdir(parents=True, exist_ok=True)
        shift, loudness = rng.uniform(-40, 40), rng.uniform(0.3, 0.6)
        for u in range(utterances):
            intent = INTENTS[(s + u) % len(INTENTS)]
            relative = f"wavs/speakers/{speaker}/{_file_id(rng)}.wav"
            soundfile.write(root / relative, _wave(intent, shift, loudness, rng), SAMPLE_RATE, subtype="PCM_16")
            rows[split_of(s, speakers)].append([relative, speaker, *intent])
    (root / "data").mkdir(parents=True, exist_ok=True)
    for part, lines in rows.items():
        with (root / "data" / f"{part}_data.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, lineterminator="\n")  # pandas' to_csv: "\n", quotes only when needed
            writer.writerow(["", *COLUMNS])
            writer.writerows([str(i), *line] for i, line in enumerate(lines))
    return root
