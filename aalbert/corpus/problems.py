"""Up-front validation: collect every bad file of a corpus, then report them all at once.

A reader that stopped at the first bad file would make a user fix a 280k-file corpus one
error per run; instead each problem is recorded with its file (and line) and the whole list
is raised before any training starts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from aalbert.errors import AalbertError

log = logging.getLogger(__name__)
SHOWN = 40  # problems printed in full; the rest are counted


class CorpusValidationError(AalbertError):
    """One or more bad entries in a corpus; ``problems`` holds them all as ``file:line: message``."""

    def __init__(self, what: str, problems: list[str]):
        self.problems = problems
        shown = "\n  ".join(problems[:SHOWN])
        more = f"\n  ... and {len(problems) - SHOWN} more" if len(problems) > SHOWN else ""
        super().__init__(f"{len(problems)} problem(s) in {what}; nothing was trained:\n  {shown}{more}")


class Problems:
    """Problems found while reading one corpus.

    An audio file that cannot be used (:meth:`add_audio`) is a problem like any other, unless
    ``skip_audio`` (``data.bad_audio: skip``): then it is listed in ``skipped_audio`` and the ids
    of the utterances it held in ``skipped_ids``, and the corpus is read without it.
    """

    def __init__(self, what: str, skip_audio: bool = False):
        self.what = what
        self.items: list[str] = []
        self.skip_audio = skip_audio
        self.skipped_audio: list[str] = []
        self.skipped_ids: set[str] = set()

    def add(self, where: str | Path, message: str, line: int | None = None) -> None:
        self.items.append(_located(where, message, line))

    def add_audio(self, where: str | Path, message: str, line: int | None = None, uttids: Iterable[str] = ()) -> None:
        """A bad audio file (``where``: the file, or the line that lists it)."""
        if self.skip_audio:
            self.skipped_audio.append(_located(where, message, line))
            self.skipped_ids.update(uttids)
        else:
            self.add(where, message, line)

    def add_message(self, text: str) -> None:
        """A message that already names its file (and line)."""
        self.items.append(text)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise CorpusValidationError(self.what, self.items)


def _located(where: str | Path, message: str, line: int | None) -> str:
    return f"{where}:{line}: {message}" if line is not None else f"{where}: {message}"


def report_unmatched_lines(path: str | Path, total: int, unmatched: list[str], what: str, known: str) -> None:
    """Lines of a metadata file (``path``, ``total`` lines) naming ``what`` the corpus does not have
    (``unmatched``: those names) are left out, and said so, as Kaldi's ``utils/fix_data_dir.sh``
    does ("filtered FILE from 103 to 100 lines"), never silently."""
    if unmatched:
        log.warning(
            "fix_data_dir: %s: %d of %d line(s) name %s not in %s (e.g. %s); kept %d",
            path,
            len(unmatched),
            total,
            what,
            known,
            ", ".join(unmatched[:3]),
            total - len(unmatched),
        )


def log_skips(what: str, skipped: dict[str, int]) -> None:
    """Skips are never silent: one line per reason with its count."""
    for reason, count in sorted(skipped.items()):
        if count:
            log.info("%s: skipped %d utterance(s): %s", what, count, reason)
