"""Fluent Speech Commands as distributed: ``fluent_speech_commands_dataset/`` holding
``data/{train,valid,test}_data.csv`` and ``wavs/speakers/SPEAKER/*.wav`` (16 kHz mono).

Each CSV row is ``INDEX,path,speakerId,transcription,action,object,location`` (pandas wrote the
files: the first column is its unnamed index, read by name here, never by position). ``path`` is
relative to the dataset folder. The utterance id is the wav file's stem (a UUID: what SUPERB's
intent task names its predictions by); the speaker is ``speakerId``; ``transcription`` gives
the words as written. ``Utterance.info`` holds ``action``, ``object``, ``location`` (the three
slots SUPERB's intent task predicts: ``utterance.action`` ...) and ``intent``
(``action_object_location``: the slots as one label, for a single-output head).

The CSV a row is in is the corpus's partition (``valid`` is our ``dev``); the three lists are
speaker-disjoint in the release. A root may also be the folder holding
``fluent_speech_commands_dataset/``. Every problem (a missing CSV, a row lacking a column, a
missing audio file, an utterance listed twice) is collected with its file and line and reported
at once, before any training.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

from aalbert.errors import MissingFileError

from ..bad_audio import checked_listing
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

log = logging.getLogger(__name__)

FORMAT = "fluent_commands"
DATASET_FOLDER = "fluent_speech_commands_dataset"
# the distributed CSVs and the partition each one is
PARTS = {"train_data.csv": "train", "valid_data.csv": "dev", "test_data.csv": "test"}
SLOTS = ("action", "object", "location")
COLUMNS = ("path", "speakerId", "transcription", *SLOTS)


def dataset_folder(root: Path) -> Path:
    """The folder holding ``data/`` and ``wavs/``: ``root`` itself, or its
    ``fluent_speech_commands_dataset/`` (where the archive unpacks)."""
    if not root.is_dir():
        raise MissingFileError(f"Fluent Speech Commands root not found: {root}")
    for folder in (root, root / DATASET_FOLDER):
        if (folder / "data").is_dir():
            if folder != root:
                log.info("%s: reading the dataset in %s", root, folder)
            return folder
    raise MissingFileError(
        f"{root} does not look like Fluent Speech Commands: expected data/train_data.csv "
        f"(in it or in {root / DATASET_FOLDER})"
    )


def intent_of(action: str, obj: str, location: str) -> str:
    """The three slots as one label (SUPERB's accuracy counts an utterance right only when all are)."""
    return f"{action}_{obj}_{location}"


class _Row:
    """One usable CSV row: its values and where it was listed."""

    def __init__(self, values: dict[str, str], csv_path: Path, line: int, part: str):
        self.values, self.csv_path, self.line, self.part = values, csv_path, line, part

    @property
    def source(self) -> str:
        return f"{self.csv_path}:{self.line}"


def read_csv_rows(csv_path: Path, part: str, problems: Problems) -> list[_Row]:
    """The rows of one distributed CSV that give every column; each bad row goes to ``problems``
    with its line (where the row starts: a quoted transcription may span lines)."""
    rows: list[_Row] = []
    with csv_path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            problems.add(csv_path, f"header lacks column(s) {', '.join(missing)} (has: {', '.join(header)})", 1)
            return rows
        where = {c: header.index(c) for c in COLUMNS}
        start = reader.line_num + 1
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields:
                continue
            if len(fields) != len(header):  # a field left out, or a comma outside quotes
                problems.add(csv_path, f"{len(fields)} fields, the header names {len(header)}", line)
                continue
            values = {c: fields[i].strip() for c, i in where.items()}
            # a transcription may be empty (no words); without a path, speaker or slot the row is unusable
            lacking = [c for c in COLUMNS if c != "transcription" and not values[c]]
            if lacking:
                problems.add(csv_path, f"row lacks {', '.join(lacking)}", line)
                continue
            rows.append(_Row(values, csv_path, line, part))
    return rows


def read(spec: CorpusSpec) -> CorpusListing:
    roots = [dataset_folder(Path(r)) for r in spec.roots]
    what = f"the Fluent Speech Commands corpus {', '.join(spec.roots)}"
    problems = Problems(what, spec.bad_audio == "skip")
    rows: list[tuple[Path, _Row]] = []  # (dataset folder, row)
    for root in roots:
        for name, part in PARTS.items():
            csv_path = root / "data" / name
            if not csv_path.is_file():
                problems.add(csv_path, "not found: the release has train_data.csv, valid_data.csv and test_data.csv")
                continue
            rows += [(root, row) for row in read_csv_rows(csv_path, part, problems)]
    cache = AudioInfoCache(FORMAT, roots, spec.scan_cache, spec.audio_check_workers)
    present: list[tuple[Path, _Row]] = []
    for root, row in rows:
        path = root / row.values["path"]
        if path.is_file():
            present.append((path, row))
        else:  # named against the row that lists it: the CSV is what to fix, or the download
            problems.add(row.csv_path, f"audio file not found: {path}", row.line)
    cache.prefetch(path for path, _ in present)  # headers and decoding of new files, in parallel
    utterances, partition = _utterances(present, cache, problems)
    listing = checked_listing(FORMAT, roots, utterances, cache, spec, problems, what)
    listing.partition = {u.uttid: partition[u.uttid] for u in listing.utterances}
    return listing


def _utterances(
    present: list[tuple[Path, _Row]], cache: AudioInfoCache, problems: Problems
) -> tuple[list[Utterance], dict[str, str]]:
    utterances: list[Utterance] = []
    partition: dict[str, str] = {}
    listed: dict[str, str] = {}  # uttid -> where first listed
    for path, row in present:
        uttid = path.stem
        if uttid in listed:
            problems.add(row.csv_path, f"utterance {uttid} is listed twice (also at {listed[uttid]})", row.line)
            continue
        listed[uttid] = row.source
        num_samples = cache.usable_samples(path, problems, uttid)
        if num_samples is None:
            continue
        values = row.values
        info = {slot: values[slot] for slot in SLOTS}
        info["intent"] = intent_of(*(values[slot] for slot in SLOTS))
        utt = Utterance(uttid, path, values["speakerId"], num_samples=num_samples, source=row.source, info=info)
        utt.words = values["transcription"].split()
        utterances.append(utt)
        partition[uttid] = row.part
    return utterances, partition
