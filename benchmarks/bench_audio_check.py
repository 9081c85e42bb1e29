"""What decoding every audio file before the first step costs: a corpus scan (headers, identity
keys and a full decode of each file: aalbert.corpus.audio_check) cold with 1 and with N decoding
processes, then warm (the scan manifest holds every file: nothing is decoded).

    python benchmarks/bench_audio_check.py --files 10000 --seconds 2 --workers 4 [--dir /tmp/check_bench]

Half the files are FLAC, half 16-bit WAV, in LibriSpeech layout. Prints one table. "cold" still
finds the files in the OS page cache after they were written; on a freshly mounted disk the cold
scans are slower (reading), the warm one reads 128 KiB per file at most (the identity key).
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile


def make_corpus(root: Path, files: int, seconds: float, per_chapter: int = 100) -> None:
    rng = np.random.default_rng(0)
    wave = (0.1 * rng.standard_normal(int(seconds * 16000))).astype(np.float32)
    encoded = {}
    for fmt in ("FLAC", "WAV"):
        buffer = io.BytesIO()
        soundfile.write(buffer, wave, 16000, format=fmt, subtype="PCM_16")
        encoded[fmt] = buffer.getvalue()  # one file's bytes, written N times (decoding is what is measured)
    for i in range(files):
        speaker, chapter, utt = i // (per_chapter * 10), (i // per_chapter) % 10, i % per_chapter
        folder = root / str(speaker) / str(chapter)
        if utt == 0:
            folder.mkdir(parents=True, exist_ok=True)
        fmt = "FLAC" if i % 2 == 0 else "WAV"
        (folder / f"{speaker}-{chapter}-{utt:04d}.{fmt.lower()}").write_bytes(encoded[fmt])


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=10000)
    p.add_argument("--seconds", type=float, default=2.0, help="length of each generated file")
    p.add_argument("--workers", type=int, default=4, help="decoding processes of the parallel cold scan")
    p.add_argument("--dir", default=None, help="where to generate the corpus (default: a temporary folder)")
    args = p.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="check_bench_"))
    os.environ["AALBERT_CACHE_DIR"] = str(work / "cache")  # before aalbert reads it
    import aalbert.corpus.audio_check as audio_check
    from aalbert.corpus.registry import read_corpus
    from aalbert.corpus.spec import CorpusSpec

    corpus = work / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    t0 = time.perf_counter()
    make_corpus(corpus, args.files, args.seconds)
    megabytes = sum(f.stat().st_size for f in corpus.rglob("*.*")) / 2**20
    print(
        f"generated {args.files} files ({args.seconds:g} s each, {megabytes:.0f} MiB) in {time.perf_counter() - t0:.1f} s"
    )
    decoded = {"n": 0}
    real = audio_check.decode_file

    def counted(path: str) -> dict:
        decoded["n"] += 1
        return real(path)

    rows = []
    for label, workers, cold in (
        ("cold, 1 process", 1, True),
        (f"cold, {args.workers} processes", args.workers, True),
        ("warm (manifest)", args.workers, False),
    ):
        if cold:
            shutil.rmtree(work / "cache", ignore_errors=True)
        # counted in this process (1 process, warm); a pool's workers decode unpatched
        audio_check.decode_file = counted if workers == 1 or not cold else real
        decoded["n"] = 0
        t0 = time.perf_counter()
        n = len(read_corpus(CorpusSpec("librispeech", [str(corpus)], audio_check_workers=workers)).utterances)
        seconds = time.perf_counter() - t0
        rows.append((label, n, seconds, decoded["n"] if workers == 1 or not cold else "in workers"))
    audio_check.decode_file = real
    print("\n| scan | files | seconds | files / s | decoded here |\n| --- | ---: | ---: | ---: | ---: |")
    for label, n, seconds, count in rows:
        print(f"| {label} | {n} | {seconds:.2f} | {n / seconds:,.0f} | {count} |")
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
