"""Up-front validation: collect every bad file of a corpus, then report them all at once.

A reader that stopped at the first bad file would make a user fix a 280k-file corpus one
error per run; instead each problem is recorded with its file (and line) and the whole list
is raised before any training starts.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aalbert.errors import AalbertError

log = logging.getLogger(__name__)
SHOWN = 40  # problems printed in full; the rest are counted


class CorpusValidationError(AalbertError, ValueError):
    """One or more bad entries in a corpus; ``problems`` holds them all as ``file:line: message``."""

    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:SHOWN])
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{len(problems)} problem(s) in {what}; nothing was trained:\n  {shown}{more}")


class Problems:
    """Problems found while reading one corpus."""

    def __init__(self, what: str):
        self.what = what
        self.items: list[str] = []

    def add(self, where: str | Path, message: str, line: int | None = None) -> None:
        self.items.append(f"{where}:{line}: {message}" if line is not None else f"{where}: {message}")

    def add_message(self, text: str) -> None:
        """A message that already names its file (and line)."""
        self.items.append(text)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise CorpusValidationError(self.what, self.items)


def log_skips(what: str, skipped: dict[str, int]) -> None:
    """Skips are never silent: one line per reason with its count."""
    for reason, count in sorted(skipped.items()):
        if count:
            log.info("%s: skipped %d utterance(s): %s", what, count, reason)
