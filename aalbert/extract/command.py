"""``aalbert extract``: its flags and ``main``, torch-free so ``--help`` and usage errors answer at
once; the work (aalbert.extract.run) is imported once the flags are parsed."""

from __future__ import annotations

import argparse
import sys

from aalbert import command_flags as flags

PROG = "aalbert extract"
DESCRIPTION = (
    "An upstream's hidden states for a whole corpus, into Kaldi ark/scp, a Lhotse feature manifest or .npy "
    "files: sharded over processes (--jobs N, or one shard per torchrun rank), resumable (run the same command "
    "again: what is written is verified by content, the rest is done), with a summary at the end."
)
EXAMPLES = [
    "aalbert extract -u aalbert_local -k result/pretrain/tiny/states-500.ckpt -l 3 --data data/synth40 --out feats/l3",
    "aalbert extract -u mockingjay --layers all --output-format lhotse --data kaldi:data/train --out feats/mj --jobs 2",
    "aalbert extract --weighted-sum result/downstream/phone --data /data/LibriSpeech/test-other --output-format npy \\",
    "    --out feats/phone_ws          # -u/-k default to the experiment's upstream",
    "torchrun --nproc_per_node 4 -m aalbert extract -u aalbert -l 12 --data /data/LibriSpeech/train-clean-100 --out f",
]
FORMATS = ("kaldi", "lhotse", "npy")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = flags.command_parser(prog, DESCRIPTION, EXAMPLES)
    flags.add_upstream_flags(p, default=None)
    keep = p.add_argument_group("what to keep (one of)")
    keep.add_argument(
        "-l",
        "--layer",
        "--layers",
        dest="layers",
        metavar="N|N,M|all",
        help="hidden state(s) to keep: 0 = input representation .. L = last layer; all = every one",
    )
    keep.add_argument(
        "--weighted-sum",
        metavar="EXPDIR",
        help="the learned weighted sum of the hidden states of a trained downstream experiment",
    )
    d = p.add_argument_group("data (read as the other commands read corpora)")
    d.add_argument(
        "--data", nargs="+", required=True, help="corpus root(s), audio folders, .txt lists, or FORMAT:PATH entries"
    )
    d.add_argument(
        "--format", default=None, help="reader of the plain --data entries (default librispeech; files, ...)"
    )
    flags.add_override_flag(p, "data.options.KEY=VALUE,,data.channel=mean")
    o = p.add_argument_group("output")
    o.add_argument("--out", "-p", dest="out", required=True, metavar="DIR", help="output folder (owned by this run)")
    o.add_argument("--output-format", choices=FORMATS, default="kaldi", help="kaldi ark/scp, lhotse manifest, or npy")
    o.add_argument(
        "--overwrite",
        action="store_true",
        help="start anew in a folder that holds another run (moved aside to DIR.old-TIME, never deleted)",
    )
    r = p.add_argument_group("run")
    r.add_argument("--precision", choices=("fp32", "bf16", "fp16", "int8"), default="fp32")
    r.add_argument("--jobs", type=int, default=1, help="CPU processes, each extracting its shard (torchrun: leave out)")
    r.add_argument("-b", "--batch-size", type=int, default=8, help="utterances per forward (length-sorted)")
    r.add_argument("--seed", type=int, default=1337, help="initialises a random (non-checkpoint) upstream")
    flags.add_runtime_flags(p)
    return p


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if (args.layers is None) == (args.weighted_sum is None):
        parser.error("give one of -l N / --layers all, or --weighted-sum EXPDIR")
    from aalbert.analysis.command import run_command  # torch-free: the frame every command's main shares

    return run_command(parser, argv, "aalbert.extract.run:run_args")


if __name__ == "__main__":
    sys.exit(main())
