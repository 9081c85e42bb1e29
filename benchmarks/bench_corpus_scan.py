"""Corpus scan time, cold (no scan manifest: every audio header is read) and warm (manifest
present: every file is only stat'ed), on N small generated WAV files in LibriSpeech layout.

    python benchmarks/bench_corpus_scan.py --files 100000 [--dir /tmp/scan_bench]

Prints one table. "cold" still finds the files in the OS page cache after they were written;
on a freshly mounted disk a cold scan is slower still, the warm one barely changes.
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


def make_corpus(root: Path, files: int, per_chapter: int = 100) -> None:
    buffer = io.BytesIO()
    soundfile.write(buffer, np.zeros(1600, dtype=np.int16), 16000, format="WAV", subtype="PCM_16")
    data = buffer.getvalue()  # one 0.1 s file, written N times (the header read is what is measured)
    for i in range(files):
        speaker, chapter, utt = i // (per_chapter * 10), (i // per_chapter) % 10, i % per_chapter
        folder = root / str(speaker) / str(chapter)
        if utt == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{speaker}-{chapter}-{utt:04d}.wav").write_bytes(data)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--files", type=int, default=100000)
    p.add_argument("--dir", default=None, help="where to generate the corpus (default: a temporary folder)")
    args = p.parse_args()
    work = Path(args.dir or tempfile.mkdtemp(prefix="scan_bench_"))
    os.environ["AALBERT_CACHE_DIR"] = str(work / "cache")  # before aalbert reads it
    from aalbert.corpus.registry import read_corpus
    from aalbert.corpus.spec import CorpusSpec

    corpus = work / "corpus"
    if corpus.exists():
        shutil.rmtree(corpus)
    shutil.rmtree(work / "cache", ignore_errors=True)
    t0 = time.perf_counter()
    make_corpus(corpus, args.files)
    print(f"generated {args.files} files in {time.perf_counter() - t0:.1f} s under {corpus}")
    spec = CorpusSpec("librispeech", [str(corpus)])
    rows = []
    for label in ("cold (no manifest)", "warm (manifest)", "warm again"):
        t0 = time.perf_counter()
        n = len(read_corpus(spec).utterances)
        rows.append((label, n, time.perf_counter() - t0))
    print("\n| scan | utterances | seconds | files / s |\n| --- | ---: | ---: | ---: |")
    for label, n, seconds in rows:
        print(f"| {label} | {n} | {seconds:.2f} | {n / seconds:,.0f} |")
    if not args.dir:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
