"""Scaling of ``aalbert extract`` over CPU processes: throughput with 1, 2, ... processes and the
per-process efficiency, printed as a table naming the machine.

Each row is one ``aalbert extract --jobs N`` run in a fresh process (a fresh output folder), on the
same utterances: real speech from ``--data`` (default ../shared/data/librispeech-test-other-10spk,
read as plain audio files), else a generated tone corpus (aalbert.testing). ``--jobs N`` gives each
process cpu_count // N torch threads, so every row uses the whole machine: the question is whether
N processes with fewer threads each beat one process with all of them.

* end to end: audio seconds / the command's wall time (process start-up and model loading included);
* in shards: audio seconds / the slowest shard's extraction time (what a long corpus approaches);
* efficiency: speedup over 1 process (in shards) / N.

    python benchmarks/bench_extract.py                                   # 1 and 2 processes (more if cores allow)
    python benchmarks/bench_extract.py --jobs 1,2,4 --utterances 40 -u mockingjay_3l_random
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared/data/librispeech-test-other-10spk"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def file_list(data: Path | None, utterances: int, folder: Path) -> tuple[Path, str]:
    """A .txt list of the first ``utterances`` audio files (the files reader reads it)."""
    from aalbert.audio import find_audio_files

    if data is None or not data.is_dir():
        from aalbert.testing import make_tone_corpus

        data = make_tone_corpus(folder / "tones", speakers=4, utterances=max(1, utterances // 4 + 1))
        what = "generated tone corpus (aalbert.testing)"
    else:
        what = f"real speech ({data})"
    files = find_audio_files(data)[:utterances]
    listing = folder / "files.txt"
    listing.write_text("".join(f"{f.resolve()}\n" for f in files))
    return listing, f"{len(files)} files of {what}"


def run(listing: Path, out: Path, jobs: int, args: argparse.Namespace) -> dict:
    command = [sys.executable, "-m", "aalbert", "extract", "-u", args.upstream, "-l", str(args.layer)]
    command += ["--data", str(listing), "--format", "files", "--out", str(out), "--jobs", str(jobs)]
    command += ["-b", str(args.batch_size), "--output-format", args.output_format, "--no-progress", "--device", "cpu"]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"aalbert extract --jobs {jobs} failed:\n{done.stderr[-3000:]}")
    summary = json.loads((out / "summary.json").read_text())
    audio = summary["audio_hours"] * 3600
    slowest = max(s["seconds"] for s in summary["shards"])
    return {"jobs": jobs, "wall": wall, "audio": audio, "end_to_end": audio / wall, "in_shards": audio / slowest}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", type=Path, default=SHARED if SHARED.is_dir() else None)
    p.add_argument("--utterances", type=int, default=24)
    p.add_argument("-u", "--upstream", default="mockingjay_3l_random")
    p.add_argument("-l", "--layer", type=int, default=3)
    p.add_argument("-b", "--batch-size", type=int, default=8)
    p.add_argument("--output-format", default="kaldi", choices=("kaldi", "lhotse", "npy"))
    cores = os.cpu_count() or 1
    default_jobs = [n for n in (1, 2, 4, 8, 16) if n <= max(2, cores)]
    p.add_argument("--jobs", default=",".join(map(str, default_jobs)), help="process counts to compare")
    p.add_argument("--repeats", type=int, default=1, help="runs per row (the best is kept)")
    args = p.parse_args()
    jobs = sorted({1, *(int(j) for j in args.jobs.split(","))})  # 1 process is what speedups compare with
    with tempfile.TemporaryDirectory(prefix="bench_extract_") as tmp:
        folder = Path(tmp)
        listing, what = file_list(args.data, args.utterances, folder)
        rows: dict[int, dict] = {}
        for repeat in range(args.repeats):
            for n in jobs:  # alternating rows: machine load hits each alike
                row = run(listing, folder / f"out-{n}-{repeat}", n, args)
                if n not in rows or row["in_shards"] > rows[n]["in_shards"]:
                    rows[n] = row
    import torch

    base = rows[1]["in_shards"]
    print(
        f"machine: {platform.system()} {platform.machine()}, os.cpu_count() = {cores}, {cpu_model()}; "
        f"torch {torch.__version__}"
    )
    print(
        f"aalbert extract -u {args.upstream} -l {args.layer} -b {args.batch_size} --output-format {args.output_format}; "
        f"{what}, {rows[1]['audio']:.1f} s of audio; best of {args.repeats}"
    )
    print()
    print("| processes | threads each | wall s | audio-s/s end to end | audio-s/s in shards | speedup | efficiency |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for n in jobs:
        r = rows[n]
        speedup = r["in_shards"] / base
        print(
            f"| {n} | {max(1, cores // n)} | {r['wall']:.1f} | {r['end_to_end']:.1f} | {r['in_shards']:.1f} | "
            f"{speedup:.2f}x | {speedup / n:.0%} |"
        )


if __name__ == "__main__":
    main()
