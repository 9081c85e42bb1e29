"""TIMIT: ``.phn`` segment files to 10 ms frame labels over the standard 39-phone set.

Layout: ``ROOT/{TRAIN,TEST}/DR*/SPEAKER/SENTENCE.{WAV,PHN}`` (any case). Each ``.phn`` line is
``start_sample end_sample phone`` over TIMIT's 61 phones, which are folded to the 39 classes
of Lee & Hon (1989): closures, ``h#``, ``pau`` and ``epi`` become ``sil``; ``q`` (a glottal
stop that most transcriptions drop) is removed, its frames going to the neighbouring phone.
The SA sentences (read by every speaker) are left out, as is standard.
"""

from __future__ import annotations

import random
from pathlib import Path

from .librispeech import Utterance

FRAME_SAMPLES = 160  # 10 ms at 16 kHz

FOLD_61_TO_39 = {
    "ao": "aa", "ax": "ah", "ax-h": "ah", "axr": "er", "hv": "hh", "ix": "ih", "el": "l",
    "em": "m", "en": "n", "nx": "n", "eng": "ng", "zh": "sh", "ux": "uw",
    "pcl": "sil", "tcl": "sil", "kcl": "sil", "bcl": "sil", "dcl": "sil", "gcl": "sil",
    "h#": "sil", "pau": "sil", "epi": "sil",
}
PHONES_39 = sorted({
    "aa", "ae", "ah", "aw", "ay", "b", "ch", "d", "dh", "dx", "eh", "er", "ey", "f", "g", "hh",
    "ih", "iy", "jh", "k", "l", "m", "n", "ng", "ow", "oy", "p", "r", "s", "sh", "sil", "t", "th",
    "uh", "uw", "v", "w", "y", "z"})
REMOVED = "q"


class TimitError(ValueError):
    """A malformed ``.phn`` file; the message names it."""


def fold_phone(phone: str, path: Path | str = "?") -> str | None:
    """61-phone label -> 39-phone label, or None for ``q``."""
    phone = phone.lower()
    if phone == REMOVED:
        return None
    folded = FOLD_61_TO_39.get(phone, phone)
    if folded not in PHONES_39:
        raise TimitError(f"{path}: unknown TIMIT phone {phone!r}")
    return folded


def read_phn(path: str | Path, num_samples: int | None = None) -> list[int]:
    """Frame labels (ids into ``PHONES_39``), frame i labelled by the phone at its centre."""
    path = Path(path)
    segments = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise TimitError(f"{path}:{lineno}: expected 'start end phone', got {line!r}")
        try:
            start, end = int(parts[0]), int(parts[1])
        except ValueError as err:
            raise TimitError(f"{path}:{lineno}: sample offsets must be integers") from err
        phone = fold_phone(parts[2], path)
        if phone is not None:
            segments.append((start, end, PHONES_39.index(phone)))
    if not segments:
        raise TimitError(f"{path}: no phone segments")
    total = num_samples if num_samples is not None else segments[-1][1]
    n_frames = -(-total // FRAME_SAMPLES)
    labels, seg = [], 0
    for i in range(n_frames):
        centre = i * FRAME_SAMPLES + FRAME_SAMPLES // 2
        # advance to the segment covering the centre; a gap (a removed q) keeps the previous phone
        while seg + 1 < len(segments) and segments[seg + 1][0] <= centre:
            seg += 1
        labels.append(segments[seg][2])
    return labels


def _find(folder: Path, stem: str, suffix: str) -> Path | None:
    for cand in (folder / (stem + suffix.upper()), folder / (stem + suffix.lower())):
        if cand.is_file():
            return cand
    return None


def scan_timit(root: str | Path) -> dict[str, list[Utterance]]:
    """Utterances of TIMIT's TRAIN and TEST folders, keyed by folder name in lower case."""
    root = Path(root)
    out: dict[str, list[Utterance]] = {}
    for part in root.iterdir() if root.is_dir() else []:
        if not part.is_dir() or part.name.lower() not in ("train", "test"):
            continue
        utts = []
        for wav in sorted(p for p in part.rglob("*") if p.suffix.lower() == ".wav"):
            if wav.stem.upper().startswith("SA"):
                continue
            speaker = wav.parent.name.upper()
            phn = _find(wav.parent, wav.stem, ".phn")
            utt = Utterance(f"{speaker}_{wav.stem.upper()}", wav, speaker)
            utt.phones = read_phn(phn) if phn else None
            utts.append(utt)
        out[part.name.lower()] = utts
    if "train" not in out or "test" not in out:
        raise FileNotFoundError(f"{root} does not look like TIMIT: expected TRAIN/ and TEST/ folders")
    return out


def timit_splits(parts: dict[str, list[Utterance]], seed: int, dev_fraction: float = 0.1) -> dict[str, list[str]]:
    """Test = TEST; dev = a seeded ``dev_fraction`` of TRAIN *speakers* (unseen voices), train = the rest."""
    speakers = sorted({u.speaker for u in parts["train"]})
    random.Random(f"timit:{seed}").shuffle(speakers)
    dev_speakers = set(speakers[:max(1, round(len(speakers) * dev_fraction))])
    return {
        "train": sorted(u.uttid for u in parts["train"] if u.speaker not in dev_speakers),
        "dev": sorted(u.uttid for u in parts["train"] if u.speaker in dev_speakers),
        "test": sorted(u.uttid for u in parts["test"]),
    }
