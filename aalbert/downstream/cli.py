"""Command line of run_downstream.py (s3prl's flags, plus --data and --label-fraction).

python run_downstream.py -m train -u aalbert -k CKPT -d phone_linear -n NAME
python run_downstream.py -m train -e result/downstream/NAME        # resume
python run_downstream.py -m evaluate -e result/downstream/NAME
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path

from aalbert import distributed as dist
from aalbert.command_flags import (
    add_experiment_flags,
    add_override_flag,
    add_runtime_flags,
    add_upstream_flags,
    apply_runtime_flags,
    command_parser,
)
from aalbert.config import to_dict
from aalbert.errors import UsageError, report_error
from aalbert.experiment import experiment_dir, make_record, open_experiment

from .registry import available_tasks
from .runner import Runner, build_config, load_experiment_config
from .training import TrainingInterrupted

DEFAULT_RESULT_DIR = Path("result/downstream")
EXAMPLES = [
    "aalbert downstream -m train -u aalbert -d phone_linear -n phone --data data/synth40",
    "aalbert downstream -m train -u aalbert_local -k result/pretrain/tiny/states-500.ckpt -d speaker_utterance \\",
    "    -s hidden_states -n spk -o runner.total_steps=400,,optimizer.lr=1e-2",
    "aalbert downstream -m train -e result/downstream/phone          # resume",
    "aalbert downstream -m evaluate -e result/downstream/phone       # test split -> results.json",
]
# -s value -> featurizer.mode; s3prl's names first ("hidden_states" without -l is its weighted sum)
FEATURE_SELECTIONS = {
    "hidden_states": "weighted_sum",
    "last_hidden_state": "last",
    "weighted_sum": "weighted_sum",
    "last": "last",
}
# what a resume (-e) may change without making it another experiment
RESUME_MAY_CHANGE = (
    "runner.total_steps",
    "runner.eval_step",
    "runner.log_step",
    "runner.num_workers",
    "runner.eval_batch_size",
    "runner.save_minutes",
    "runner.feature_cache",
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = command_parser("run_downstream.py", "Train or evaluate a downstream task on upstream features.", EXAMPLES)
    p.add_argument(
        "-m",
        "--mode",
        choices=["train", "evaluate", "inference"],
        default="train",
        help="train (resumes with -e) or evaluate -e EXPDIR; s3prl's inference is not offered",
    )
    add_upstream_flags(p, default=None)
    p.add_argument("-d", "--downstream", help="task name (--list-tasks shows them)")
    p.add_argument("-f", "--finetune", action="store_true", help="fine-tune the upstream too")
    p.add_argument(
        "-s",
        "--feature-selection",
        choices=sorted(FEATURE_SELECTIONS),
        help="as in s3prl: hidden_states = learnable weighted sum of every hidden state (or, with "
        "-l, that one state), last_hidden_state = the last layer (aliases: weighted_sum, last)",
    )
    p.add_argument("-l", "--layer", type=int, help="one hidden state (0 = input representation .. L = last layer)")
    p.add_argument("-c", "--config", help="YAML merged over the task's default config")
    add_override_flag(p, "runner.total_steps=100,,optimizer.lr=1e-2")
    add_experiment_flags(
        p,
        str(DEFAULT_RESULT_DIR),
        resume="experiment folder (or a checkpoint file in it, as in s3prl) to resume training from or to evaluate",
    )
    p.add_argument("--seed", type=int)
    p.add_argument("--data", help="corpus root (sets data.root)")
    p.add_argument("--label-fraction", type=float, help="fraction of training utterances to use (0.001..1)")
    p.add_argument("--list-tasks", action="store_true", help="print the known tasks and exit")
    add_runtime_flags(p)
    return p.parse_args(argv)


def _cli_overrides(args) -> list[str]:
    """Flags that map onto config keys, as overrides applied before -o (so -o wins)."""
    out = []
    if args.feature_selection:
        mode = FEATURE_SELECTIONS[args.feature_selection]
        out.append(f"featurizer.mode={'hidden_states' if args.layer is not None and mode == 'weighted_sum' else mode}")
    if args.layer is not None:
        out.append(f"featurizer.layer={args.layer}")
        if not args.feature_selection:
            out.append("featurizer.mode=hidden_states")
    if args.data:
        out.append(f"data.root={json.dumps(args.data)}")
    if args.label_fraction is not None:
        out.append(f"data.label_fraction={args.label_fraction}")
    if args.seed is not None:
        out.append(f"seed={args.seed}")
    return out


def run(argv: list[str] | None = None) -> dict:
    return run_parsed(parse_args(argv))


def run_parsed(args: argparse.Namespace) -> dict:
    apply_runtime_flags(args)
    if args.list_tasks:
        print("\n".join(available_tasks()))
        return {}
    if args.mode == "inference":
        raise UsageError(
            "-m inference (s3prl's prediction dump) is not offered: -m evaluate -e EXPDIR scores "
            "the test split and writes EXPDIR/results.json"
        )
    overrides = _cli_overrides(args) + args.override
    checkpoint = None  # -e FILE: s3prl's way of naming the experiment (and, to evaluate, that file)
    if args.past_exp:
        expdir = Path(args.past_exp)
        if expdir.is_file():  # s3prl's -e takes a checkpoint file; its folder is the experiment
            checkpoint, expdir = expdir, expdir.parent
        config = load_experiment_config(expdir, overrides)
    else:
        if args.mode == "evaluate":
            raise UsageError("evaluate needs the experiment folder: -e EXPDIR")
        if not args.downstream or not args.upstream:
            raise UsageError("training a new experiment needs -u UPSTREAM and -d TASK")
        if not (args.expname or args.expdir):
            raise UsageError("name the experiment with -n NAME (or --expdir DIR)")
        expdir = experiment_dir(DEFAULT_RESULT_DIR, args.expname, args.expdir)
        config = build_config(
            args.downstream,
            args.config,
            overrides,
            upstream=args.upstream,
            upstream_ckpt=args.upstream_ckpt,
            finetune=args.finetune or None,
        )
    record = experiment_record(config) if args.mode == "train" else None
    dist.init_distributed(args.device)
    opened = None
    try:
        # rank 0 holds the folder while the run lasts (evaluating writes results.json: it holds it too)
        opened = dist.on_main_rank(
            lambda: open_experiment(
                expdir, record, resuming=bool(args.past_exp), overwrite=args.overwrite, may_change=RESUME_MAY_CHANGE
            )
        )
        if opened is not None and opened.moved_to is not None:
            print(f"--overwrite: moved the old contents of {expdir} to {opened.moved_to}", file=sys.stderr)
        runner = Runner(config, expdir, record=record, device=args.device)
        if args.mode == "train":
            results = runner.train(continuing=bool(args.past_exp))
        else:
            results = runner.evaluate(checkpoint=checkpoint)
    finally:
        if opened is not None:
            opened.close()
        dist.cleanup()
    if dist.is_main() and results:
        print(json.dumps({"expdir": str(expdir), **results["metrics"]}, indent=2))
    return results


def experiment_record(config) -> dict:
    """What makes a downstream experiment: its resolved config and the upstream's identity."""
    from aalbert.hub import upstream_identity  # late: the hub imports every upstream family

    return make_record("downstream", to_dict(config), upstream=upstream_identity(config.upstream, config.upstream_ckpt))


def _stop_on_sigterm(signum, frame):
    raise KeyboardInterrupt  # the training loop saves a resumable state, then stops


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        run_parsed(args)
    except TrainingInterrupted as stop:
        print(f"\n{stop}", file=sys.stderr)
        return 130
    except Exception as err:  # noqa: BLE001 - the toolkit's user errors are one line, anything else a traceback
        return report_error(err, "run_downstream.py", args.debug)
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0
