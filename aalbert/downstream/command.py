"""``aalbert downstream`` (alias ``run_downstream.py``): s3prl's flags, plus --data and --label-fraction.

Torch-free: ``--help``, usage errors and ``--list-tasks`` answer before torch is imported; the
work (aalbert.downstream.cli) is imported once the flags are parsed.

aalbert downstream -m train -u aalbert_local -k CKPT -d phone_linear -n NAME
aalbert downstream -m train -e result/downstream/NAME        # resume
aalbert downstream -m evaluate -e result/downstream/NAME
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from aalbert.command_flags import (
    add_experiment_flags,
    add_override_flag,
    add_runtime_flags,
    add_upstream_flags,
    apply_runtime_flags,
    command_parser,
)
from aalbert.errors import report_error
from aalbert.s3prl_flags import add_downstream_flags

PROG = "run_downstream.py"  # the checkout's alias; `aalbert downstream` passes its own name
DEFAULT_RESULT_DIR = Path("result/downstream")
EXAMPLES = [
    "aalbert downstream -m train -u aalbert -d phone_linear -n phone --data data/synth40",
    "aalbert downstream -m train -u aalbert_local -k result/pretrain/tiny/states-500.ckpt -d speaker_utterance \\",
    "    -s hidden_states -n spk -o runner.total_steps=400,,optimizer.lr=1e-2",
    "aalbert downstream -m train -e result/downstream/phone          # resume",
    "aalbert downstream -m evaluate -e result/downstream/phone       # test split -> results.json",
    "aalbert downstream -n ExpName -m train -u fbank -d speaker_linear_utter_libri --data data/synth40  # s3prl's",
    "aalbert downstream -m evaluate -t dev -e result/downstream/ExpName/dev-best.ckpt    # that file, that split",
]
# -s value -> featurizer.mode; s3prl's names first ("hidden_states" without -l is its weighted sum)
FEATURE_SELECTIONS = {
    "hidden_states": "weighted_sum",
    "last_hidden_state": "last",
    "weighted_sum": "weighted_sum",
    "last": "last",
}
ONE_HIDDEN_STATE = re.compile(r"hidden_state_(\d+)")  # s3prl's -s hidden_state_N: that one hidden state


def feature_selection(value: str) -> str:
    """``-s``: a name of FEATURE_SELECTIONS or s3prl's ``hidden_state_N``."""
    if value in FEATURE_SELECTIONS or ONE_HIDDEN_STATE.fullmatch(value):
        return value
    raise argparse.ArgumentTypeError(
        f"{value!r}: choose {', '.join(FEATURE_SELECTIONS)} or hidden_state_N (one hidden state, as -l N)"
    )


def parse_args(argv: list[str] | None = None, prog: str = PROG) -> argparse.Namespace:
    p = command_parser(prog, "Train or evaluate a downstream task on upstream features.", EXAMPLES)
    p.add_argument(
        "-m",
        "--mode",
        choices=["train", "evaluate", "inference"],
        default="train",
        help="train (resumes with -e) or evaluate -e EXPDIR; s3prl's inference is not offered",
    )
    add_upstream_flags(p, default=None)
    p.add_argument("-d", "--downstream", help="task name (--list-tasks shows them)")
    p.add_argument(
        "-f", "--finetune", "--upstream_trainable", dest="finetune", action="store_true", help="fine-tune the upstream"
    )
    p.add_argument(
        "-s",
        "--feature-selection",
        "--upstream_feature_selection",
        dest="feature_selection",
        type=feature_selection,
        help="as in s3prl: hidden_states = learnable weighted sum of every hidden state (or, with -l, that one "
        "state), hidden_state_N = hidden state N, last_hidden_state = the last layer (aliases: weighted_sum, last)",
    )
    p.add_argument(
        "-l",
        "--layer",
        "--upstream_layer_selection",
        dest="layer",
        type=int,
        help="one hidden state (0 = input representation .. L = last layer)",
    )
    p.add_argument("-c", "--config", help="YAML merged over the task's default config")
    add_override_flag(p, "runner.total_steps=100,,optimizer.lr=1e-2")
    add_experiment_flags(
        p,
        str(DEFAULT_RESULT_DIR),
        resume="experiment folder (or a checkpoint file in it, as in s3prl) to resume training from or to evaluate",
    )
    p.add_argument("--seed", type=int)
    p.add_argument("--data", help="corpus root (sets data.roots to this one folder)")
    p.add_argument("--label-fraction", type=float, help="fraction of training utterances to use (0.001..1)")
    p.add_argument(
        "--precision",
        choices=["fp32", "bf16", "fp16", "int8"],
        help="the frozen upstream's inference precision: int8 (dynamic quantization, CPU; not with -f), bf16, "
        "fp16 (CUDA); default fp32",
    )
    p.add_argument("--list-tasks", action="store_true", help="print the known tasks (and s3prl's names) and exit")
    add_runtime_flags(p)
    add_downstream_flags(p)
    return p.parse_args(argv)


def list_tasks() -> None:
    from .registry import available_tasks  # the task folders and plugins: no torch
    from .s3prl_names import alias_lines

    print("\n".join(available_tasks()))
    print("\n# s3prl's names for tasks above (-d NAME runs the task after '='):")
    print("\n".join(alias_lines()))


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv, prog)
    if args.list_tasks:
        try:
            apply_runtime_flags(args)
            list_tasks()
        except Exception as err:  # noqa: BLE001 - the toolkit's user errors are one line, anything else a traceback
            return report_error(err, prog, args.debug)
        return 0
    try:
        from . import cli  # the work: torch, the task, the upstream

        try:
            cli.run_parsed(args)
        except cli.TrainingInterrupted as stop:  # SIGINT/SIGTERM in the loop: saved first (aalbert.training_loop)
            print(f"\n{prog}: {stop}: resume with {prog} -m train -e {stop.expdir}", file=sys.stderr)
            return 130
    except Exception as err:  # noqa: BLE001 - the toolkit's user errors are one line, anything else a traceback
        return report_error(err, prog, args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
