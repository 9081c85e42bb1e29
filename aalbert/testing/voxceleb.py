"""A generated VoxCeleb1 in the layout it is distributed in: ``wav/ID/VIDEO/NNNNN.wav``, ``iden_split.txt``
(``SPLIT RELPATH``, 1 train, 2 dev, 3 test) and the verification trial lists ``veri_test.txt`` /
``veri_test2.txt`` (``LABEL RELPATH1 RELPATH2``, 1 = same speaker).

Every speaker has an audible voice: two tones of its own among 8 voice bands (4.1-6.9 kHz), at loudnesses
of its own, which each video shifts a little (a recording channel). Over them each utterance says "words"
(random tones below 3.6 kHz, louder than the voice), in a room of its own (a noise floor from 0.002 to 0.05,
which moves every quiet band together) and at a loudness of its own. An untrained head hears mostly words
and rooms (test EER 0.13-0.19 over seeds 0-3 with the defaults and TinyUpstream); a head trained a few dozen
steps on the training speakers has learnt the voice bands and applies them to unseen voices (EER 0-0.03).
As in VoxCeleb1, the verification test speakers (the last ``test_speakers``) are disjoint from the
speakers a verification system trains on, and ``iden_split.txt`` lists every speaker's utterances.
"""

from __future__ import annotations

import string
from pathlib import Path

import numpy as np
import soundfile

from aalbert.audio_rate import SAMPLE_RATE

FIRST_ID = 10001  # VoxCeleb1's speaker ids run from id10001 to id11251
VOICE_BANDS = [4125.0 + 375.0 * i for i in range(8)]  # voice tones: 4.1-6.8 kHz, one 250 Hz band of every 1.5


def speaker_id(index: int) -> str:
    return f"id{FIRST_ID + index}"


def voice_tones(index: int) -> tuple[float, float]:
    """Speaker ``index``'s two voice tones (Hz), two of the 8 voice bands: the first 8 speakers use every band
    twice (bands i and i + 3), so a system trained on them has heard each band; then other pairs, 28 in all."""
    pairs = [(a, (a + step) % 8) for step in (3, 1, 2) for a in range(8)] + [(a, a + 4) for a in range(4)]
    a, b = pairs[index % len(pairs)]
    return VOICE_BANDS[a], VOICE_BANDS[b]


def make_voxceleb1(
    root: str | Path,
    speakers: int = 24,
    videos: int = 2,
    utterances: int = 4,
    seed: int = 0,
    test_speakers: int = 4,
    seconds: tuple[float, float] = (0.3, 0.6),
) -> Path:
    """Write the corpus under ``root`` and return it. ``speakers`` x ``videos`` x ``utterances`` files of
    ``seconds`` (shortest, longest); the last ``test_speakers`` speakers make the verification trials.

    ``iden_split.txt``: per speaker, the last video is test (3), the first utterance of each other
    video dev (2), the rest train (1) (needs ``videos >= 2``). ``veri_test.txt``: for every utterance of
    a test speaker, one target trial (another of its utterances, another video when it has one) and one
    non-target trial (another test speaker's); ``veri_test2.txt`` (the "cleaned" list) leaves out its
    last two trials, so a reader can tell which one it read."""
    if videos < 2 or utterances < 1:
        raise ValueError("make_voxceleb1 needs videos >= 2 (train, dev and test) and utterances >= 1")
    if not 2 <= test_speakers < speakers:
        raise ValueError("make_voxceleb1 needs 2 <= test_speakers < speakers")
    root = Path(root)
    rng = np.random.default_rng(seed)
    iden: list[str] = []
    files: dict[str, list[tuple[str, str]]] = {}  # speaker -> (video, relpath)
    for s in range(speakers):
        spk = speaker_id(s)
        tones = voice_tones(s)
        loudness = rng.uniform(0.05, 0.15, size=2)
        for v in range(videos):
            video = "".join(rng.choice(list(string.ascii_letters + string.digits + "-_"), size=11))
            channel = rng.uniform(0.8, 1.25, size=2)
            folder = root / "wav" / spk / video
            folder.mkdir(parents=True, exist_ok=True)
            for u in range(utterances):
                rel = f"{spk}/{video}/{u + 1:05d}.wav"
                wave = _utterance(rng, tones, loudness * channel, seconds)
                soundfile.write(root / "wav" / rel, wave, SAMPLE_RATE, subtype="PCM_16")
                split = 3 if v == videos - 1 else 2 if u == 0 else 1
                iden.append(f"{split} {rel}\n")
                files.setdefault(spk, []).append((video, rel))
    (root / "iden_split.txt").write_text("".join(iden))
    trials = _trials(files, [speaker_id(s) for s in range(speakers - test_speakers, speakers)], rng)
    (root / "veri_test.txt").write_text("".join(trials))
    (root / "veri_test2.txt").write_text("".join(trials[:-2]))
    return root


def _utterance(rng: np.random.Generator, tones: tuple[float, float], amplitudes, seconds) -> np.ndarray:
    n = int(rng.uniform(*seconds) * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    # the room: a noise floor from 0.002 to 0.05 (log-uniform), which moves every quiet band together
    wave = np.exp(rng.uniform(np.log(0.002), np.log(0.05))) * rng.standard_normal(n)
    for tone, amplitude in zip(tones, amplitudes):
        wave += amplitude * np.sin(2 * np.pi * tone * t + rng.uniform(0, 2 * np.pi))
    # words: tones in turn, each 60-150 ms, anywhere from 300 Hz to 3.6 kHz
    start = 0
    while start < n:
        length = int(rng.uniform(0.06, 0.15) * SAMPLE_RATE)
        piece = slice(start, min(n, start + length))
        wave[piece] += 0.5 * np.sin(2 * np.pi * rng.uniform(300, 3600) * t[piece])
        start += length
    gain = rng.uniform(0.3, 0.9)  # how loud the recording is
    return (gain * wave / float(np.abs(wave).max())).astype(np.float32)


def _trials(files: dict[str, list[tuple[str, str]]], test: list[str], rng: np.random.Generator) -> list[str]:
    lines = []
    for spk in test:
        others = [o for o in test if o != spk]
        for video, rel in files[spk]:
            same = [r for v, r in files[spk] if v != video] or [r for _, r in files[spk] if r != rel]
            if same:
                lines.append(f"1 {rel} {same[int(rng.integers(len(same)))]}\n")
            other = files[others[int(rng.integers(len(others)))]]
            lines.append(f"0 {rel} {other[int(rng.integers(len(other)))][1]}\n")
    return lines
