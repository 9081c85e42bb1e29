"""``aalbert probe`` (alias ``run_probe.py``): its flags and ``main``, torch-free so ``--help``
and usage errors answer at once; the work (aalbert.analysis.probing) is imported once the flags
are parsed."""

from __future__ import annotations

import argparse
import sys

from aalbert.command_flags import add_experiment_flags, add_runtime_flags, add_upstream_flags, command_parser

from .command import run_command
from .probe_config import PROBES, PROBING_TASKS, ProbeTrainConfig

PROG = "run_probe.py"  # the checkout's alias; `aalbert probe` passes its own name
DESCRIPTION = "Per-layer probing: what each hidden state of a frozen upstream knows about phones or speakers."
EXAMPLES = [
    "aalbert probe -u aalbert_local -k result/pretrain/tiny/states-500.ckpt --task phone --data data/synth40 -n tiny",
    "aalbert probe -u fbank --task speaker --probes linear --data data/synth40 -n fbank_speaker",
    "aalbert probe -u aalbert --task phone --format timit --data /data/TIMIT --cache-dir /scratch/probe_cache",
]

# the data settings that flags of this command set (the rest keep the downstream defaults): what
# the data code's messages name instead of the key (aalbert.config_layers.setting_name)
DATA_FLAGS = {
    "data.roots": "--data",
    "data.format": "--format",
    "data.split_policy": "--split-policy",
    "data.subsets": "--subsets",
    "data.alignment": "--alignment",
    "data.phone_list": "--phone-list",
    "data.splits": "--splits",
    "data.split_seed": "--split-seed",
}


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = command_parser(prog, DESCRIPTION, EXAMPLES)
    add_upstream_flags(p)
    p.add_argument("--task", choices=sorted(PROBING_TASKS), required=True)
    p.add_argument("--probes", default=",".join(PROBES), help=f"comma-separated, from {', '.join(PROBES)}")
    p.add_argument("--layers", default=None, help="comma-separated hidden-state indices (default: all)")
    d = p.add_argument_group("data (read as the downstream package reads it)")
    d.add_argument("--data", required=True, help="corpus root (folder, Kaldi data dir or Lhotse manifest)")
    d.add_argument("--format", default="librispeech", help="corpus reader: librispeech, timit, kaldi, lhotse, ...")
    d.add_argument(
        "--split-policy",
        default="task",
        choices=["task", "per_speaker", "disjoint_speakers"],
        help="default split without split lists (task: phones speaker-disjoint, speakers per speaker)",
    )
    d.add_argument("--subsets", default=None, help="comma-separated subsets under the root")
    d.add_argument("--alignment", default=None, help="alignment file or folder (default ROOT/alignment)")
    d.add_argument("--phone-list", default=None, help="phone list (default: beside the alignment)")
    d.add_argument("--splits", default=None, help="folder with train/dev/test.txt (default ROOT/splits or 8:1:1)")
    d.add_argument("--split-seed", type=int, default=1337)
    t = p.add_argument_group("probe training")
    defaults = ProbeTrainConfig()
    for name in ("epochs", "batch_size", "patience", "hidden_size", "seed"):
        t.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(defaults, name))
    t.add_argument("--max-steps", type=int, default=None)
    for name in ("lr", "weight_decay", "dropout"):
        t.add_argument(f"--{name.replace('_', '-')}", type=float, default=getattr(defaults, name))
    p.add_argument("--cache-dir", default=None, help="cache features on disk here (default: in memory)")
    p.add_argument(
        "--cache-check",
        default="quick",
        choices=["quick", "full"],
        help="how the disk cache tells audio unchanged: quick (size, mtime, first/last 64 KiB) or full "
        "(also a sha256 of each whole file: for audio edited in place)",
    )
    p.add_argument("--extract-batch-size", type=int, default=8)
    add_experiment_flags(p, "result/probe")  # neither -n nor -p: result/probe/UPSTREAM[-CKPT]-TASK
    add_runtime_flags(p)
    return p


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    return run_command(build_parser(prog), argv, "aalbert.analysis.probing:run_args")  # torch, the upstream, the probes


if __name__ == "__main__":
    sys.exit(main())
