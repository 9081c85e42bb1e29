"""The work of ``aalbert downstream`` once its flags are parsed (the flags and ``main``:
aalbert.downstream.command, torch-free; ``parse_args`` and ``main`` are re-exported here).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path
from typing import Any

from aalbert import distributed as dist
from aalbert.command_flags import apply_runtime_flags
from aalbert.config import to_dict
from aalbert.config_layers import Flags
from aalbert.errors import UsageError
from aalbert.experiment import experiment_dir, make_record, open_experiment
from aalbert.training_loop import TrainingInterrupted

from .command import DEFAULT_RESULT_DIR, FEATURE_SELECTIONS, list_tasks, main, parse_args
from .config import DownstreamRunnerConfig, ExperimentConfig
from .experiment_config import build_config, load_experiment_config
from .runner import Runner

__all__ = ["main", "parse_args", "run", "run_parsed", "Runner", "TrainingInterrupted"]


def flag_settings(args: argparse.Namespace) -> Flags:
    """The flags that set config fields (-s, -l, --data, --label-fraction, --seed), each as given
    -> the typed values it sets; set after -c and -o (a flag and an -o that set one key are an error)."""
    flags: dict[str, dict[str, Any]] = {}
    if args.feature_selection:
        mode = FEATURE_SELECTIONS[args.feature_selection]
        if args.layer is not None and mode == "weighted_sum":
            mode = "hidden_states"  # s3prl: -s hidden_states -l N is that one hidden state
        flags[f"-s {args.feature_selection}"] = {"featurizer.mode": mode}
    if args.layer is not None:
        flags[f"-l {args.layer}"] = {"featurizer.layer": args.layer}
        if not args.feature_selection:
            flags[f"-l {args.layer}"]["featurizer.mode"] = "hidden_states"
    if args.data:
        flags[f"--data {shlex.quote(args.data)}"] = {"data.roots": [args.data]}
    if args.label_fraction is not None:
        flags[f"--label-fraction {args.label_fraction:g}"] = {"data.label_fraction": args.label_fraction}
    if args.seed is not None:
        flags[f"--seed {args.seed}"] = {"seed": args.seed}
    return flags


def upstream_settings(args: argparse.Namespace) -> Flags:
    """-u, -k and -f: the upstream of a new experiment (a resumed one keeps its own)."""
    flags: dict[str, dict[str, Any]] = {f"-u {shlex.quote(args.upstream)}": {"upstream": args.upstream}}
    if args.upstream_ckpt:
        flags[f"-k {shlex.quote(args.upstream_ckpt)}"] = {"upstream_ckpt": args.upstream_ckpt}
    if args.finetune:
        flags["-f"] = {"finetune": True}
    return flags


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
    checkpoint = None  # -e FILE: s3prl's way of naming the experiment (and, to evaluate, that file)
    if args.past_exp:
        expdir = Path(args.past_exp)
        if expdir.is_file():  # s3prl's -e takes a checkpoint file; its folder is the experiment
            checkpoint, expdir = expdir, expdir.parent
        config = load_experiment_config(expdir, args.override, flag_settings(args))
    else:
        if args.mode == "evaluate":
            raise UsageError("evaluate needs the experiment folder: -e EXPDIR")
        if not args.downstream or not args.upstream:
            raise UsageError("training a new experiment needs -u UPSTREAM and -d TASK")
        if not (args.expname or args.expdir):
            raise UsageError("name the experiment with -n NAME (or --expdir DIR)")
        expdir = experiment_dir(DEFAULT_RESULT_DIR, args.expname, args.expdir)
        config = build_config(
            args.downstream, args.config, args.override, flags={**upstream_settings(args), **flag_settings(args)}
        )
    record = experiment_record(config) if args.mode == "train" else None
    dist.init_distributed(args.device)
    opened = None
    try:
        # rank 0 holds the folder while the run lasts (evaluating writes results.json: it holds it too)
        opened = dist.on_main_rank(
            lambda: open_experiment(
                expdir,
                record,
                resuming=bool(args.past_exp),
                overwrite=args.overwrite,
                may_change=DownstreamRunnerConfig.resume_may_change(),
                config_class=ExperimentConfig,
            )
        )
        if opened is not None and opened.moved_to is not None:
            print(f"--overwrite: moved the old contents of {expdir} to {opened.moved_to}", file=sys.stderr)
        runner = Runner(config, expdir, record=record, device=args.device, progress=not args.no_progress)
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
