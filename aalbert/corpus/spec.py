"""Which corpus to read and how: the reader's name (``format``) and its options."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from aalbert.errors import BadInputError

_SPEC = re.compile(r"^([a-z][a-z0-9_]*):(.+)$")


@dataclass
class CorpusSpec:
    format: str = "librispeech"          # a reader name (aalbert.corpus.registry)
    roots: list[str] = field(default_factory=list)   # several: pooled (e.g. Kaldi train + test)
    subsets: list[str] = field(default_factory=list)  # LibriSpeech subsets under each root; empty = all
    wav_root: str | None = None          # Kaldi: folder that relative wav.scp paths are relative to
    timit_phone_set: int = 39            # TIMIT: 61 phones folded to 39 (Lee & Hon) or 48
    # how far timed labels may fall short of (or run past) the audio before it is an error;
    # 0.5 s covers real TIMIT files whose final h# stops 0.18 s early
    label_tolerance_s: float = 0.5
    use_scan_cache: bool = True

    def __post_init__(self):
        if isinstance(self.roots, (str, Path)):
            self.roots = [str(self.roots)]
        if self.timit_phone_set not in (39, 48):
            raise BadInputError(f"timit_phone_set must be 39 or 48, got {self.timit_phone_set}")
        if self.label_tolerance_s < 0:
            raise BadInputError(f"label_tolerance_s must be >= 0, got {self.label_tolerance_s}")

    @property
    def tolerance_samples(self) -> int:
        return int(round(self.label_tolerance_s * 16000))


def parse_corpus_spec(entry: str, known_formats: list[str]) -> CorpusSpec | None:
    """``"kaldi:data/train"`` -> a spec; a plain path (or an unknown prefix) -> None."""
    match = _SPEC.match(entry)
    if not match or match.group(1) not in known_formats:
        return None
    return CorpusSpec(format=match.group(1), roots=[match.group(2)])
