"""Montreal Forced Aligner output: one TextGrid per utterance, phones on the ``phones`` tier.

Read with praatio's parser (a maintained TextGrid library), not by hand. MFA writes
``OUT/SPEAKER/UTTID.TextGrid``; the file's stem is the utterance id. Intervals become timed
phone segments, as written: empty intervals are silence (MFA writes pauses as intervals
labelled ""), while a hole between intervals or an overlap is a gap in the labels, reported
with every other reader's (praatio's ``openTextgrid`` would refuse an overlap with a message of
its own and, on saving, fill a hole with silence).
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


def read_textgrid_phones(
    path: Path, tier_name: str, problems: Problems, setting: str = "data.textgrid_tier", what: str = "phones"
) -> list[tuple[int, int, str]] | None:
    """(start, end, label) in samples from the utterance start, in file order; None (and a problem)
    if unusable. Whether the intervals tile the utterance is checked with every other reader's
    labels (``aalbert.downstream.data.attach``)."""
    from praatio.utilities import textgrid_io

    try:
        tiers = textgrid_io.parseTextgridStr(_read_text(path), includeEmptyIntervals=True)["tiers"]
        names = [tier["name"] for tier in tiers]
        tier = next((t for t in tiers if t["name"].lower() == tier_name.lower()), None)
        if tier is None:
            # MFA names tiers "SPEAKER - phones" when it aligns several speakers per file
            tier = next((t for t in tiers if t["name"].lower().endswith(tier_name.lower())), None)
        if tier is None:
            problems.add(path, f"no {tier_name!r} tier (tiers: {', '.join(names)}); set {setting}")
            return None
        if tier["class"] != "IntervalTier":
            problems.add(path, f"the {tier['name']!r} tier is a point tier; {what} need an interval tier")
            return None
        return [
            (seconds_to_samples(float(e.start)), seconds_to_samples(float(e.end)), e.label.strip())
            for e in tier["entries"]
        ]
    except Exception as err:  # praatio raises several kinds for a malformed file
        problems.add(path, f"cannot read TextGrid ({type(err).__name__}: {err})")
        return None


def _read_text(path: Path) -> str:
    """The file's text, UTF-16 (Praat's default for non-ASCII text) or UTF-8, as praatio reads it."""
    try:
        return path.read_text(encoding="utf-16")
    except UnicodeError:
        return path.read_text(encoding="utf-8")
