"""How fast the commands answer: wall time of ``--help`` of every ``aalbert`` subcommand, of
``aalbert downstream --list-tasks`` and of ``aalbert hub list``, against ``python -c "import torch"``
measured in the same run (the machine's load changes both alike). Each is a fresh process, the
runs interleaved round by round; the median of ``--repeats`` runs is printed.

    python benchmarks/bench_cli.py [--repeats 5]

The targets (issue 20): every ``--help`` well under 1 s (a parser imports no torch), ``hub list``
under 2 s (parameter counts from configs, no model built).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from aalbert.cli import COMMANDS  # noqa: E402  (torch-free)

PYTHON = [sys.executable]


def commands() -> dict[str, list[str]]:
    runs = {"python -c 'import torch'": [*PYTHON, "-c", "import torch"]}
    for name in COMMANDS:
        runs[f"aalbert {name} --help"] = [*PYTHON, "-m", "aalbert", name, "--help"]
    runs["aalbert downstream --list-tasks"] = [*PYTHON, "-m", "aalbert", "downstream", "--list-tasks"]
    runs["aalbert hub list"] = [*PYTHON, "-m", "aalbert", "hub", "list"]
    return runs


def wall_time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    runs = commands()
    with tempfile.TemporaryDirectory() as hub_dir:  # an empty hub cache: nothing downloaded is looked at
        env = {**os.environ, "TORCH_HOME": hub_dir}
        for argv in runs.values():  # warm the file cache once; not counted
            wall_time(argv, env)
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.repeats):
            for name, argv in runs.items():
                times[name].append(wall_time(argv, env))
    width = max(map(len, runs))
    print(f"{'command':<{width}}  median s  (min-max over {args.repeats} runs; {os.cpu_count()} CPUs)")
    for name, values in times.items():
        print(f"{name:<{width}}  {statistics.median(values):8.2f}  ({min(values):.2f}-{max(values):.2f})")


if __name__ == "__main__":
    main()
