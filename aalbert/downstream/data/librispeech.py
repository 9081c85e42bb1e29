"""Finding utterances in a LibriSpeech-layout corpus.

Layout: ``[SUBSET/]SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac``. The speaker is the first field
of the utterance id (which is also the SPEAKER folder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from aalbert.audio import find_audio_files

_LIBRI_ID = re.compile(r"^(\d+)-(\d+)-(\d+)$")


@dataclass
class Utterance:
    uttid: str
    path: Path
    speaker: str
    phones: list[int] | None = field(default=None, repr=False)  # 10 ms frame labels


def speaker_of(uttid: str) -> str:
    match = _LIBRI_ID.match(uttid)
    if match:
        return match.group(1)
    # other corpora ("spk_utt", "spk-utt"): the first field names the speaker
    return re.split(r"[-_]", uttid, maxsplit=1)[0]


def scan_librispeech(root: str | Path, subsets: Sequence[str] = ()) -> list[Utterance]:
    """All utterances under ``root`` (or under ``root/SUBSET`` for each subset given)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus root not found: {root}")
    roots = [root / s for s in subsets] if subsets else [root]
    for r in roots:
        if not r.is_dir():
            available = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
            raise FileNotFoundError(f"subset {r.name} not found under {root} (available: {available})")
    utterances = []
    seen: dict[str, Path] = {}
    for path in find_audio_files(roots):
        uttid = path.stem
        if uttid in seen:
            raise ValueError(f"utterance id {uttid} appears twice: {seen[uttid]} and {path}")
        seen[uttid] = path
        utterances.append(Utterance(uttid, path, speaker_of(uttid)))
    if not utterances:
        raise FileNotFoundError(f"no .flac or .wav files under {', '.join(map(str, roots))}")
    return utterances
