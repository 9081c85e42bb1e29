"""Seeded sentences of real English words from Debian's word list (wamerican)."""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError

WORDS_FILE = Path("/usr/share/dict/words")
_PLAIN_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class WordList:
    words: tuple[str, ...]
    path: str
    sha256: str  # recorded in corpus.json: another list version gives other sentences


def load_words(path: str | Path = WORDS_FILE) -> WordList:
    """Lowercase alphabetic words only (no names, no apostrophes), sorted and unique."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise CorpusError(f"word list {path} unreadable ({err}): install the Debian package wamerican") from err
    words = sorted({w for w in raw.decode("utf-8", errors="replace").split() if _PLAIN_WORD.fullmatch(w)})
    if len(words) < 100:
        raise CorpusError(f"word list {path} holds only {len(words)} plain lowercase words")
    return WordList(tuple(words), str(path), hashlib.sha256(raw).hexdigest())


def sample_sentence(words: tuple[str, ...], rng: random.Random, words_per_utterance: tuple[int, int]) -> str:
    low, high = words_per_utterance
    return " ".join(rng.choice(words) for _ in range(rng.randint(low, high)))
