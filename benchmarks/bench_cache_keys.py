"""What it costs to know that cached features still match their audio files.

The feature cache keys each utterance by its audio file's path, size, modification time and a
sha256 of its first and last 64 KiB (aalbert.downstream.feature_cache.audio_key). This prints
that cost next to a full-file sha256 and a bare stat, side by side on the same files, so the
choice can be checked on any machine. Files: ``--audio DIR`` (FLAC/WAV), else generated ones.
The OS file cache is warm after the first pass; the first row of each method is the cold one
only if nothing read the files before.

    python benchmarks/bench_cache_keys.py --audio /data/LibriSpeech/dev-clean
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from aalbert.corpus.utterance import Utterance
from aalbert.downstream.feature_cache import audio_key


def generated(folder: Path, count: int, seconds: float) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(count):
        path = folder / f"utt{i:05d}.flac"
        soundfile.write(path, (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32), 16000)
        paths.append(path)
    return paths


def full_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def timed(fn, paths: list[Path]) -> float:
    start = time.perf_counter()
    for p in paths:
        fn(p)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audio", type=Path, help="folder of audio files (default: generate --count files)")
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of generated files")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.audio:
            paths = sorted(p for p in args.audio.rglob("*") if p.suffix.lower() in (".flac", ".wav"))
        else:
            paths = generated(Path(tmp), args.count, args.seconds)
        megabytes = sum(p.stat().st_size for p in paths) / 2**20
        methods = {
            "stat (path, size, mtime)": lambda p: p.stat(),
            "audio_key (stat + first/last 64 KiB)": lambda p: audio_key(Utterance(p.stem, p, "s")),
            "full-file sha256": full_sha256,
        }
        print(f"{len(paths)} files, {megabytes:.1f} MiB")
        print(f"{'method':<40} {'ms per file':>12} {'files / s':>10}")
        for _ in range(2):  # a second pass: warm file cache for every method
            for name, fn in methods.items():
                seconds = timed(fn, paths)
                print(f"{name:<40} {1000 * seconds / len(paths):>12.3f} {len(paths) / seconds:>10.0f}")


if __name__ == "__main__":
    main()
