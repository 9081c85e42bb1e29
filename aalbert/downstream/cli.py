"""Command line of run_downstream.py (s3prl's flags, plus --data and --label-fraction).

    python run_downstream.py -m train -u aalbert -k CKPT -d phone_linear -n NAME
    python run_downstream.py -m train -e result/downstream/NAME        # resume
    python run_downstream.py -m evaluate -e result/downstream/NAME
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from aalbert.config import ConfigError

from . import distributed as dist
from .registry import UnknownTaskError, available_tasks
from .runner import Runner, build_config, load_experiment_config

DEFAULT_RESULT_DIR = Path("result/downstream")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Train or evaluate a downstream task on upstream features.")
    p.add_argument("-m", "--mode", choices=["train", "evaluate"], default="train")
    p.add_argument("-u", "--upstream", help="upstream name (see `python -m aalbert.hub list`)")
    p.add_argument("-k", "--upstream-ckpt", help="upstream checkpoint (for *_local upstreams)")
    p.add_argument("-d", "--downstream", help="task name (--list-tasks shows them)")
    p.add_argument("-f", "--finetune", action="store_true", help="fine-tune the upstream too")
    p.add_argument("-s", "--feature-selection", choices=["weighted_sum", "last", "hidden_states"],
                   help="how hidden states become features (default: the task config's, weighted_sum)")
    p.add_argument("-l", "--layer", type=int, help="hidden state index with -s hidden_states")
    p.add_argument("-c", "--config", help="YAML merged over the task's default config")
    p.add_argument("-o", "--override", action="append", default=[], help="key=value, e.g. runner.total_steps=100")
    p.add_argument("-n", "--name", help="experiment name: expdir is result/downstream/NAME")
    p.add_argument("--expdir", help="experiment folder (instead of -n)")
    p.add_argument("-e", "--past-exp", help="experiment folder to resume training from or to evaluate")
    p.add_argument("--seed", type=int)
    p.add_argument("--data", help="corpus root (sets data.root)")
    p.add_argument("--label-fraction", type=float, help="fraction of training utterances to use (0.001..1)")
    p.add_argument("--list-tasks", action="store_true", help="print the known tasks and exit")
    return p.parse_args(argv)


def _cli_overrides(args) -> list[str]:
    """Flags that map onto config keys, as overrides applied before -o (so -o wins)."""
    out = []
    if args.feature_selection:
        out.append(f"featurizer.mode={args.feature_selection}")
    if args.layer is not None:
        out.append(f"featurizer.layer={args.layer}")
    if args.data:
        out.append(f"data.root={json.dumps(args.data)}")
    if args.label_fraction is not None:
        out.append(f"data.label_fraction={args.label_fraction}")
    if args.seed is not None:
        out.append(f"seed={args.seed}")
    return out


def run(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.list_tasks:
        print("\n".join(available_tasks()))
        return {}
    overrides = _cli_overrides(args) + args.override
    if args.past_exp:
        expdir = Path(args.past_exp)
        config = load_experiment_config(expdir, overrides)
    else:
        if args.mode == "evaluate":
            raise SystemExit("evaluate needs the experiment folder: -e EXPDIR")
        if not args.downstream or not args.upstream:
            raise SystemExit("training a new experiment needs -u UPSTREAM and -d TASK")
        if not (args.name or args.expdir):
            raise SystemExit("name the experiment with -n NAME (or --expdir DIR)")
        expdir = Path(args.expdir) if args.expdir else DEFAULT_RESULT_DIR / args.name
        config = build_config(args.downstream, args.config, overrides, upstream=args.upstream,
                              upstream_ckpt=args.upstream_ckpt, finetune=args.finetune or None)
    dist.init_from_env()
    try:
        runner = Runner(config, expdir)
        results = runner.train() if args.mode == "train" else runner.evaluate()
    finally:
        dist.cleanup()
    if dist.is_main() and results:
        print(json.dumps({"expdir": str(expdir), **results["metrics"]}, indent=2))
    return results


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run(argv)
    except (UnknownTaskError, ConfigError, FileNotFoundError, ValueError) as err:
        # user errors: one clear line, no traceback (AudioError, LabelLengthError are ValueErrors)
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
