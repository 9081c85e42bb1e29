"""Where one shard of ``aalbert extract`` writes, and how a rerun knows what is really done.

Per stream (aalbert.extract.selection) a shard writes either one Kaldi archive
(``STREAM/feats.SHARD.ark``, kaldiio's binary matrices, appended in the shard's order) or one
``.npy`` per utterance (``STREAM/npy/NAME.npy``, NAME = aalbert.safe_names.file_name(UTTID),
written atomically; the npy and lhotse formats). After an utterance's bytes are written, one line
goes to the shard's journal (``journal/shard-SHARD.jsonl``): the utterance id, the identity of the
audio it came from (aalbert.downstream.feature_cache.audio_key: path, size, mtime, hashes of its
edges, the segment) and per stream the file, offset, size and sha256 of the bytes written.

A rerun trusts nothing it cannot check: :meth:`ShardStore.resume` walks the shard's utterances in
order and keeps the longest prefix whose journal lines name the expected utterance, match its
current audio and whose bytes still hash to what was recorded; the journal and the archives are cut
back to that prefix (a half-written record of a killed run goes), and the shard goes on from there.
Writing in order from a verified prefix is what makes a resumed run's files equal, byte for byte,
to those of an uninterrupted one. (A process killed loses nothing flushed; a machine losing power
may lose the last records, which the checks then redo.)
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from aalbert.atomic import remove_stale_temp_files, write_atomic
from aalbert.errors import BadInputError
from aalbert.safe_names import file_name

FORMATS = ("kaldi", "lhotse", "npy")
JOURNAL_DIR = "journal"


def journal_path(out: Path, shard: int) -> Path:
    return out / JOURNAL_DIR / f"shard-{shard:03d}.jsonl"


def ark_name(stream: str, shard: int) -> str:
    return f"{stream}/feats.{shard:03d}.ark"


def npy_name(stream: str, uttid: str) -> str:
    return f"{stream}/npy/{file_name(uttid)}.npy"


def kaldi_record(uttid: str, array: np.ndarray) -> bytes:
    """``UTTID <binary float matrix>`` as Kaldi writes it into an archive (kaldiio's writer)."""
    import kaldiio  # the `extract` extra; only the kaldi format needs it

    buffer = io.BytesIO()
    kaldiio.save_ark(buffer, {uttid: array})
    return buffer.getvalue()


def npy_bytes(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def _write_all(f: IO[bytes], data: bytes) -> None:
    f.write(data)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _bytes_at(path: Path, offset: int, size: int) -> bytes | None:
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            data = f.read(size)
    except OSError:
        return None
    return data if len(data) == size else None


def check_kaldi_ids(uttids: list[str]) -> None:
    bad = [u for u in uttids if not u or any(c.isspace() for c in u)]
    if bad:
        raise BadInputError(
            f"--output-format kaldi: utterance ids with white space cannot be Kaldi keys: {', '.join(map(repr, bad[:5]))}"
            f"{' ...' if len(bad) > 5 else ''} (use --output-format npy or lhotse)"
        )


@dataclass
class Output:
    file: str  # relative to the output folder
    offset: int
    size: int
    sha256: str


class ShardStore:
    """One shard's files and journal (see the module's docstring)."""

    def __init__(self, out: Path, shard: int, streams: list[str], output_format: str):
        if output_format not in FORMATS:
            raise BadInputError(f"unknown output format {output_format!r}; choose {', '.join(FORMATS)}")
        self.out, self.shard, self.streams, self.format = Path(out), shard, streams, output_format
        self.journal = journal_path(self.out, shard)
        self.arks: dict[str, io.BufferedWriter] = {}
        self.files_written = 0

    # ------------------------------------------------------------------ resuming
    def _verified(self, record: dict, uttid: str, key: dict) -> bool:
        if record.get("uttid") != uttid or record.get("audio") != json.loads(json.dumps(key)):
            return False
        outputs = record.get("outputs")
        if not isinstance(outputs, dict) or sorted(outputs) != sorted(self.streams):
            return False
        for stream in self.streams:
            o = outputs[stream]
            data = _bytes_at(self.out / o["file"], o["offset"], o["size"])
            if data is None or _digest(data) != o["sha256"]:
                return False
        return True

    def resume(self, expected: list[tuple[str, dict]]) -> int:
        """How many of the shard's utterances (``(uttid, audio key)`` in order) are verifiably written;
        the journal and the archives are cut back to exactly those."""
        remove_stale_temp_files(self.out, recursive=True)
        records: list[dict] = []
        if self.journal.is_file():
            for line in self.journal.read_text().splitlines():
                try:
                    records.append(json.loads(line))
                except ValueError:
                    break  # a line cut short by a kill: nothing after it counts
        done = 0
        for record, (uttid, key) in zip(records, expected):
            if not self._verified(record, uttid, key):
                break
            done += 1
        kept = records[:done]
        text = "".join(json.dumps(r) + "\n" for r in kept).encode()
        write_atomic(self.journal, lambda f: f.write(text))
        if self.format == "kaldi":
            for stream in self.streams:
                path = self.out / ark_name(stream, self.shard)
                end = max((r["outputs"][stream]["offset"] + r["outputs"][stream]["size"] for r in kept), default=0)
                path.parent.mkdir(parents=True, exist_ok=True)
                with open(path, "ab") as f:
                    f.truncate(end)  # whatever a killed run appended after the verified prefix goes
        return done

    # ------------------------------------------------------------------ writing
    def _ark(self, stream: str) -> io.BufferedWriter:
        if stream not in self.arks:
            self.arks[stream] = open(self.out / ark_name(stream, self.shard), "ab")  # noqa: SIM115 - kept open
        return self.arks[stream]

    def write(self, uttid: str, key: dict, arrays: list[np.ndarray]) -> None:
        """One utterance: its bytes for each stream, then its journal line."""
        outputs = {}
        for stream, array in zip(self.streams, arrays):
            if self.format == "kaldi":
                data = kaldi_record(uttid, array)
                ark = self._ark(stream)
                offset = ark.tell()
                ark.write(data)
                ark.flush()
                name = ark_name(stream, self.shard)
            else:
                data, offset, name = npy_bytes(array), 0, npy_name(stream, uttid)
                write_atomic(self.out / name, functools.partial(_write_all, data=data))
            outputs[stream] = vars(Output(name, offset, len(data), _digest(data)))
            self.files_written += self.format != "kaldi"  # an archive counts once, when closed
        line = json.dumps(
            {
                "uttid": uttid,
                "audio": key,
                "frames": int(arrays[0].shape[0]),
                "dim": int(arrays[0].shape[1]),
                "outputs": outputs,
            }
        )
        with open(self.journal, "a") as f:
            f.write(line + "\n")

    def close(self) -> None:
        self.files_written += len(self.arks)
        for ark in self.arks.values():
            ark.close()
        self.arks.clear()


def read_journal(out: Path, shard: int) -> list[dict]:
    path = journal_path(out, shard)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
