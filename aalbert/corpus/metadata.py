"""Per-utterance and per-speaker metadata from files: Kaldi ``utt2X`` / ``spk2X`` and CSV / TSV / JSON tables.

A downstream recipe lists them in ``data.metadata`` (no reader plugin needed); the Kaldi reader also
reads every ``utt2X`` / ``spk2X`` file of its data directories. Values stay strings here: the label a
task declares says how to read them (``utterance.age:numeric`` parses a number, and a value that is
not one is an error naming the file). Where each field came from is kept, for those messages.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from aalbert.config import from_dict
from aalbert.errors import BadInputError, MissingFileError

from .problems import Problems, report_unmatched_lines

if TYPE_CHECKING:  # torch-free: the downstream config (and --help) imports MetadataFile
    from .utterance import CorpusListing

Per = Literal["utterance", "speaker"]
# Kaldi files that are not metadata: the speaker map itself, and files with several values per key
KALDI_NOT_METADATA = frozenset({"utt2spk", "spk2utt", "utt2uniq"})
_KALDI_PREFIXES: dict[str, Per] = {"utt2": "utterance", "spk2": "speaker"}


@dataclass
class MetadataFile:
    """One entry of ``data.metadata`` given as a mapping (a plain string is a Kaldi ``utt2X``/``spk2X`` path)."""

    path: str
    per: Per | None = None  # whose metadata: utterance or speaker (a Kaldi file says it by its name)
    key: str | None = None  # the column naming the utterance / speaker (default: the first column)
    fields: list[str] = field(default_factory=list)  # columns to read (default: every other column)
    format: Literal["auto", "kaldi", "csv", "tsv", "json"] = "auto"  # auto: by the file's name

    def resolved_format(self) -> str:
        if self.format != "auto":
            return self.format
        suffix = Path(self.path).suffix.lower()
        return {".csv": "csv", ".tsv": "tsv", ".json": "json"}.get(suffix, "kaldi")


MAX_VALUES_LISTED = 20  # a metadata field with more distinct values is summed up by their count


def metadata_fields(infos: list[dict[str, str]], who: str) -> dict:
    """field -> how many of ``infos`` (speakers' or utterances') have it, and its values' counts."""
    values: dict[str, Counter] = {}
    for info in infos:
        for key, value in info.items():
            values.setdefault(key, Counter())[value] += 1
    fields: dict[str, dict] = {}
    for key, counts in sorted(values.items()):
        listed = len(counts) <= MAX_VALUES_LISTED
        fields[key] = {who: sum(counts.values())}
        fields[key].update({"values": dict(sorted(counts.items()))} if listed else {"distinct_values": len(counts)})
    return fields


def metadata_entry(entry: str | dict | MetadataFile) -> MetadataFile:
    """One ``data.metadata`` entry: a path (a Kaldi utt2X / spk2X file) or a mapping, as a MetadataFile."""
    if isinstance(entry, MetadataFile):
        return entry
    return MetadataFile(entry) if isinstance(entry, str) else from_dict(MetadataFile, entry, key="data.metadata")


def kaldi_field(path: Path) -> tuple[Per, str] | None:
    """``utt2age`` -> ("utterance", "age"), ``spk2gender`` -> ("speaker", "gender"); None for another name."""
    name = path.name
    for prefix, per in _KALDI_PREFIXES.items():
        if name.startswith(prefix) and len(name) > len(prefix) and name not in KALDI_NOT_METADATA:
            return per, name[len(prefix) :]
    return None


def kaldi_metadata_files(data_dir: Path) -> list[Path]:
    """The ``utt2X`` / ``spk2X`` metadata files of a Kaldi data directory, sorted."""
    return sorted(p for p in data_dir.iterdir() if p.is_file() and "." not in p.name and kaldi_field(p) is not None)


def read_kaldi_file(path: Path, problems: Problems) -> dict[str, str]:
    """``KEY VALUE...`` lines (the value may hold spaces) -> key -> value."""
    table: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1)
        if len(parts) < 2:
            problems.add(path, f"expected KEY VALUE, got {line!r}", lineno)
        elif parts[0] in table:
            problems.add(path, f"{parts[0]} listed twice", lineno)
        else:
            table[parts[0]] = parts[1].strip()
    return table


def read_table_file(entry: MetadataFile, path: Path, problems: Problems) -> dict[str, dict[str, str]]:
    """A CSV / TSV / JSON table -> key -> {field: value} (the fields ``entry`` names, else all)."""
    fmt = entry.resolved_format()
    if fmt == "json":
        return _json_rows(entry, path, problems)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t" if fmt == "tsv" else ","))
    if not rows:
        problems.add(path, "the table is empty")
        return {}
    header, out = rows[0], {}
    key = entry.key or header[0]
    missing = [c for c in [key, *entry.fields] if c not in header]
    if missing:
        problems.add(path, f"no column(s) {', '.join(missing)} (columns: {', '.join(header)})", 1)
        return {}
    fields = entry.fields or [c for c in header if c != key and c]
    for lineno, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.add(path, f"{len(row)} cells, the header has {len(header)}", lineno)
            continue
        values = dict(zip(header, row))
        if values[key] in out:
            problems.add(path, f"{values[key]} listed twice", lineno)
            continue
        out[values[key]] = {f: values[f] for f in fields if values[f] != ""}
    return out


def _json_rows(entry: MetadataFile, path: Path, problems: Problems) -> dict[str, dict[str, str]]:
    """``{KEY: {field: value}}`` or ``[{key column: KEY, field: value}, ...]``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        problems.add(path, f"not valid JSON ({err})")
        return {}
    if isinstance(data, list):
        if not entry.key:
            problems.add(path, "a JSON list of records needs `key:` (the field naming the utterance or speaker)")
            return {}
        records = {}
        for i, rec in enumerate(data):
            if not isinstance(rec, dict) or entry.key not in rec:
                problems.add(path, f"record {i} has no {entry.key!r}")
                continue
            records[str(rec[entry.key])] = {k: v for k, v in rec.items() if k != entry.key}
        data = records
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        problems.add(path, "expected {KEY: {FIELD: VALUE}} or a list of records")
        return {}
    out: dict[str, dict[str, str]] = {}
    for k, rec in data.items():
        chosen = entry.fields or list(rec)
        out[str(k)] = {f: _text(rec[f]) for f in chosen if f in rec and rec[f] is not None}
    return out


def _text(value: object) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def attach_metadata(listing: CorpusListing, entries: list[MetadataFile], problems: Problems) -> None:
    """Merge ``entries`` into the listing's ``speaker_info`` / ``Utterance.info`` (a later file wins
    over a reader's value), recording the file each field came from in ``listing.metadata_sources``."""
    utterances = {u.uttid: u for u in listing.utterances}
    speakers = {u.speaker for u in listing.utterances}
    for entry in entries:
        path = Path(entry.path)
        if not path.is_file():
            raise MissingFileError(f"data.metadata: {path} not found")
        rows, per = _read_entry(entry, path, problems)
        known = utterances.keys() if per == "utterance" else speakers
        unknown = [k for k in rows if k not in known and k not in listing.unusable_ids]
        report_unmatched_lines(
            path, len(rows), unknown, "utterances" if per == "utterance" else "speakers", "the corpus"
        )
        for key, values in rows.items():
            if per == "utterance" and key in utterances:
                utterances[key].info.update(values)
            elif per == "speaker" and key in speakers:
                listing.speaker_info.setdefault(key, {}).update(values)
            for name in values:
                listing.metadata_sources[(per, name)] = str(path)


def _read_entry(entry: MetadataFile, path: Path, problems: Problems) -> tuple[dict[str, dict[str, str]], Per]:
    if entry.resolved_format() == "kaldi":
        named = kaldi_field(path)
        per = entry.per or (named[0] if named else None)
        if per is None or (named is None and not entry.fields):
            raise BadInputError(
                f"data.metadata: {path} is read as a Kaldi KEY VALUE file, but its name is not utt2FIELD or "
                "spk2FIELD: name it so, or give {path: ..., per: utterance|speaker, fields: [FIELD]}"
            )
        name = entry.fields[0] if entry.fields else named[1]  # type: ignore[index]
        return {k: {name: v} for k, v in read_kaldi_file(path, problems).items()}, per
    if entry.per is None:
        raise BadInputError(f"data.metadata: {path}: say whose metadata the table holds (per: utterance or speaker)")
    return read_table_file(entry, path, problems), entry.per
