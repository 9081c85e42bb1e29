"""s3prl's phone alignment format.

An alignment file has one line per utterance, ``UTTID id id id ...``, one integer phone id per
10 ms frame (s3prl's libri_phone setup ships it as ``converted_aligned_phones.txt``). A phone
list maps ids to names, one ``id name`` pair per line.
"""

from __future__ import annotations

from pathlib import Path

from aalbert.errors import AalbertError

ALIGNMENT_NAMES = ("converted_aligned_phones.txt", "alignments.txt", "alignment.txt")
PHONE_LIST_NAMES = ("phones.txt", "phone_list.txt", "phone_set.txt", "phones.list")


class AlignmentError(AalbertError):
    """A malformed alignment or phone list; the message names the file and line."""


def find_alignment_files(path: str | Path) -> list[Path]:
    """The alignment file itself, or the alignment file(s) in a directory."""
    path = Path(path)
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise AlignmentError(f"alignment path not found: {path}")
    for name in ALIGNMENT_NAMES:
        if (path / name).is_file():
            return [path / name]
    # several files (e.g. one per subset) are allowed as long as their names say "align"
    files = sorted(p for p in path.glob("*align*") if p.is_file() and p.suffix in (".txt", ".ali", ""))
    if not files:
        listing = ", ".join(sorted(p.name for p in path.iterdir())) or "(empty)"
        raise AlignmentError(
            f"no alignment file in {path}: expected one of {', '.join(ALIGNMENT_NAMES)} "
            f"or files named *align*.txt; found {listing}"
        )
    return files


def find_phone_list(alignment_path: str | Path) -> Path:
    """The phone list beside an alignment file, or inside an alignment directory."""
    path = Path(alignment_path)
    folder = path if path.is_dir() else path.parent
    for name in PHONE_LIST_NAMES:
        if (folder / name).is_file():
            return folder / name
    raise AlignmentError(
        f"no phone list in {folder}: expected one of {', '.join(PHONE_LIST_NAMES)} (or set data.phone_list)"
    )


def read_phone_list(path: str | Path) -> list[str]:
    """Phone names indexed by id; ids must be 0..N-1 (each once)."""
    path = Path(path)
    names: dict[int, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if len(parts) != 2:
            raise AlignmentError(f"{path}:{lineno}: expected 'id name', got {line!r}")
        # accept both "id name" and "name id" (Kaldi's phones.txt puts the name first)
        if parts[0].lstrip("-").isdigit():
            idx, name = int(parts[0]), parts[1]
        elif parts[1].lstrip("-").isdigit():
            name, idx = parts[0], int(parts[1])
        else:
            raise AlignmentError(f"{path}:{lineno}: no integer id in {line!r}")
        if idx in names:
            raise AlignmentError(f"{path}:{lineno}: id {idx} listed twice ({names[idx]!r} and {name!r})")
        names[idx] = name
    if not names:
        raise AlignmentError(f"{path}: phone list is empty")
    missing = sorted(set(range(len(names))) - set(names))
    if missing:
        raise AlignmentError(f"{path}: phone ids must run 0..{len(names) - 1}; missing {missing[:10]}")
    return [names[i] for i in range(len(names))]


def read_alignments(files: list[Path], num_phones: int | None = None) -> dict[str, list[int]]:
    """uttid -> frame labels from one or more alignment files."""
    alignments: dict[str, list[int]] = {}
    for path in files:
        for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            uttid, raw = parts[0], parts[1:]
            if not raw:
                raise AlignmentError(f"{path}:{lineno}: utterance {uttid} has no frame labels")
            try:
                labels = [int(x) for x in raw]
            except ValueError as err:
                raise AlignmentError(f"{path}:{lineno}: utterance {uttid}: labels must be integers ({err})") from err
            if num_phones is not None:
                bad = [x for x in labels if not 0 <= x < num_phones]
                if bad:
                    raise AlignmentError(
                        f"{path}:{lineno}: utterance {uttid}: phone id {bad[0]} outside the "
                        f"phone list (0..{num_phones - 1})"
                    )
            if uttid in alignments:
                raise AlignmentError(f"{path}:{lineno}: utterance {uttid} aligned twice")
            alignments[uttid] = labels
    return alignments
