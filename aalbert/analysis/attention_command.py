"""``aalbert attention`` (alias ``run_attention.py``): its flags and ``main``, torch-free so
``--help`` and usage errors answer at once; the work (aalbert.analysis.attention) is imported once
the flags are parsed."""

from __future__ import annotations

import argparse
import sys

from aalbert import command_flags as flags

from .command import run_command

PROG = "run_attention.py"  # the checkout's alias; `aalbert attention` passes its own name
DESCRIPTION = "How differently the layers attend: the layer x layer attention JSD matrix of an upstream."
EXAMPLES = [
    "aalbert attention -u aalbert_local -k result/pretrain/tiny/states-500.ckpt --data data/synth40 -n tiny",
    "aalbert attention -u aalbert --data kaldi:data/test --num-utterances 50 --max-seconds 10 -p jsd_aalbert",
]


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = flags.command_parser(prog, DESCRIPTION, EXAMPLES)
    flags.add_upstream_flags(p)
    p.add_argument(
        "--data",
        nargs="+",
        required=True,
        help="audio folder(s), files, .txt file lists or corpora as FORMAT:PATH (e.g. kaldi:data/train)",
    )
    p.add_argument(
        "--num-utterances",
        type=int,
        default=20,
        help="N utterances spread over the speakers (a corpus's, else the folders holding the files), drawn with --seed",
    )
    p.add_argument("-b", "--batch-size", type=int, default=1)
    p.add_argument("--max-seconds", type=float, default=None, help="crop each file to its first N seconds")
    p.add_argument(
        "--seed", type=int, default=1337, help="draws the utterances; initialises random (non-checkpoint) upstreams"
    )
    flags.add_experiment_flags(p, "result/attention")  # neither -n nor -p: result/attention/UPSTREAM[-CKPT]
    flags.add_runtime_flags(p)
    return p


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    return run_command(build_parser(prog), argv, "aalbert.analysis.attention:run_args")  # torch, the upstream, the maps


if __name__ == "__main__":
    sys.exit(main())
