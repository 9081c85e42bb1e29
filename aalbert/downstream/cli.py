"""The work of ``aalbert downstream`` once its flags are parsed (the flags and ``main``:
aalbert.downstream.command, torch-free; ``parse_args`` and ``main`` are re-exported here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aalbert import distributed as dist
from aalbert.command_flags import apply_runtime_flags
from aalbert.config import to_dict
from aalbert.errors import UsageError
from aalbert.experiment import experiment_dir, make_record, open_experiment

from .command import DEFAULT_RESULT_DIR, FEATURE_SELECTIONS, list_tasks, main, parse_args
from .runner import Runner, build_config, load_experiment_config
from .training import TrainingInterrupted

__all__ = ["main", "parse_args", "run", "run_parsed", "Runner", "TrainingInterrupted"]

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
        list_tasks()
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
