"""Montreal Forced Aligner output: one TextGrid per utterance, phones on the ``phones`` tier.

Read with praatio (a maintained TextGrid library), not by hand. MFA writes
``OUT/SPEAKER/UTTID.TextGrid``; the file's stem is the utterance id. Intervals become timed
phone segments; empty intervals are silence (MFA leaves pauses unlabelled).
"""

from __future__ import annotations

from pathlib import Path

from aalbert.corpus.frames import seconds_to_samples
from aalbert.corpus.problems import Problems

SUFFIX = ".textgrid"


def find_textgrids(path: Path) -> list[Path]:
    if path.is_file():
        return [path] if path.suffix.lower() == SUFFIX else []
    return sorted(p for p in path.rglob("*") if p.suffix.lower() == SUFFIX and p.is_file())


def read_textgrid_phones(path: Path, tier_name: str, problems: Problems) -> list[tuple[int, int, str]] | None:
    """(start, end, label) in samples from the utterance start; None (and a problem) if unusable."""
    from praatio import textgrid

    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
    except Exception as err:  # praatio raises several kinds for a malformed file
        problems.add(path, f"cannot read TextGrid ({type(err).__name__}: {err})")
        return None
    names = tg.tierNames
    tier = next((tg.getTier(n) for n in names if n.lower() == tier_name.lower()), None)
    if tier is None:
        # MFA names tiers "SPEAKER - phones" when it aligns several speakers per file
        tier = next((tg.getTier(n) for n in names if n.lower().endswith(tier_name.lower())), None)
    if tier is None:
        problems.add(path, f"no {tier_name!r} tier (tiers: {', '.join(names)}); set data.textgrid_tier")
        return None
    return [(seconds_to_samples(e.start), seconds_to_samples(e.end), e.label.strip()) for e in tier.entries]
