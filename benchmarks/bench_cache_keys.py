"""What it costs to know that cached features still match their audio files.

The feature cache keys each utterance by its audio file (aalbert.downstream.feature_cache.audio_key,
chosen by ``runner.feature_cache_check``): ``quick`` = path, size, modification time and a sha256
of the first and last 64 KiB; ``full`` = the same and a sha256 of the whole file. The key is
computed for every utterance at every start of a run that uses a disk cache. This prints both
next to a bare stat, on the same files, so the choice can be checked on any machine. Files:
``--audio DIR`` (FLAC/WAV), else generated ones. The first pass reads the files as they are
(cold only if nothing read them before: generated files are still in the OS file cache); the
second pass is warm for every method.

    python benchmarks/bench_cache_keys.py --audio /data/LibriSpeech/dev-clean
    python benchmarks/bench_cache_keys.py --count 100 --seconds 12
"""

from __future__ import annotations

import argparse
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
            "quick (stat + first/last 64 KiB)": lambda p: audio_key(Utterance(p.stem, p, "s"), "quick"),
            "full (quick + whole-file sha256)": lambda p: audio_key(Utterance(p.stem, p, "s"), "full"),
        }
        print(f"{len(paths)} files, {megabytes:.1f} MiB")
        print(f"{'pass':<5} {'method':<36} {'ms per file':>12} {'files / s':>10} {'MiB / s':>9}")
        for run in ("first", "warm"):  # a second pass: warm file cache for every method
            for name, fn in methods.items():
                seconds = timed(fn, paths)
                print(
                    f"{run:<5} {name:<36} {1000 * seconds / len(paths):>12.3f} "
                    f"{len(paths) / seconds:>10.0f} {megabytes / seconds:>9.0f}"
                )


if __name__ == "__main__":
    main()
