"""The merged index of an ``aalbert extract`` folder, written once every shard is done, from the
shards' journals (aalbert.extract.storage), sorted by utterance id (byte order: Kaldi's ``sort``):

* kaldi: ``STREAM/feats.scp`` (``UTTID /abs/STREAM/feats.SHARD.ark:OFFSET``, kaldiio.load_scp and
  Kaldi's own tools read it) and ``STREAM/utt2num_frames``;
* lhotse: ``STREAM/features.jsonl.gz``, a Lhotse FeatureSet whose storage is the ``.npy`` files
  (storage type ``numpy_files``: ``lhotse.load_manifest(...)[i].load()`` gives the array), one
  Features per utterance (recording id = utterance id, start 0, frame shift = the upstream's);
* npy: ``STREAM/feats.tsv``, ``UTTID<TAB>npy/NAME.npy`` (paths relative to STREAM).

Index paths into the archives and the Lhotse storage are absolute, as Kaldi's and Lhotse's own
tools write them: a moved folder is re-indexed by running the same command again (nothing is
recomputed).
"""

from __future__ import annotations

from pathlib import Path

from aalbert.atomic import write_text_atomic
from aalbert.audio_rate import SAMPLE_RATE

from .storage import read_journal


def _sorted(records: list[dict]) -> list[dict]:
    return sorted(records, key=lambda r: r["uttid"].encode())


def gather(out: Path, shards: int) -> list[dict]:
    """Every shard's journal records, sorted by utterance id."""
    return _sorted([r for shard in range(shards) for r in read_journal(out, shard)])


def write_kaldi(out: Path, stream: str, records: list[dict]) -> list[Path]:
    scp, frames = [], []
    for r in records:
        o = r["outputs"][stream]
        # the scp's offset points past "UTTID " at the matrix itself
        scp.append(f"{r['uttid']} {(out / o['file']).resolve()}:{o['offset'] + len(r['uttid'].encode()) + 1}\n")
        frames.append(f"{r['uttid']} {r['frames']}\n")
    return [
        write_text_atomic(out / stream / "feats.scp", "".join(scp)),
        write_text_atomic(out / stream / "utt2num_frames", "".join(frames)),
    ]


def write_npy(out: Path, stream: str, records: list[dict]) -> list[Path]:
    prefix = f"{stream}/"
    lines = [f"{r['uttid']}\t{r['outputs'][stream]['file'].removeprefix(prefix)}\n" for r in records]
    return [write_text_atomic(out / stream / "feats.tsv", "".join(lines))]


def write_lhotse(out: Path, stream: str, records: list[dict], downsample_rate: int) -> list[Path]:
    from lhotse import Features, FeatureSet  # the lhotse extra; only this format needs it

    shift = downsample_rate / SAMPLE_RATE
    storage = str((out / stream).resolve())
    features = [
        Features(
            type=f"aalbert_{stream}",
            num_frames=r["frames"],
            num_features=r["dim"],
            frame_shift=shift,
            sampling_rate=SAMPLE_RATE,
            start=0.0,
            duration=round(r["frames"] * shift, 6),
            storage_type="numpy_files",
            storage_path=storage,
            storage_key=r["outputs"][stream]["file"].removeprefix(f"{stream}/"),
            recording_id=r["uttid"],
            channels=0,
        )
        for r in records
    ]
    path = out / stream / "features.jsonl.gz"
    tmp = path.with_name(f".{path.name}.tmp.jsonl.gz")  # lhotse picks the compression from the suffix
    FeatureSet.from_features(features).to_file(tmp)
    tmp.replace(path)
    return [path]


def write_indexes(out: Path, streams: list[str], output_format: str, shards: int, downsample_rate: int) -> list[Path]:
    records = gather(out, shards)
    written: list[Path] = []
    for stream in streams:
        if output_format == "kaldi":
            written += write_kaldi(out, stream, records)
        elif output_format == "lhotse":
            written += write_lhotse(out, stream, records, downsample_rate)
        else:
            written += write_npy(out, stream, records)
    return written
