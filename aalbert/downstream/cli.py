"""The work of ``aalbert downstream`` once its flags are parsed (the flags and ``main``:
aalbert.downstream.command, torch-free; ``parse_args`` and ``main`` are re-exported here). s3prl's
flags (aalbert.s3prl_flags) get their meaning here: ``-t``, ``-i``, ``-a``, ``-r``, ``--cache_dir``...
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from aalbert import distributed as dist
from aalbert.command_flags import apply_runtime_flags
from aalbert.config import save_config, to_dict
from aalbert.config_layers import Flags
from aalbert.errors import MissingFileError, UsageError
from aalbert.experiment import experiment_dir, make_record, open_experiment, read_record
from aalbert.s3prl_flags import check_downstream_flags
from aalbert.training_loop import TrainingInterrupted

from .command import DEFAULT_RESULT_DIR, FEATURE_SELECTIONS, ONE_HIDDEN_STATE, list_tasks, main, parse_args
from .config import DownstreamRunnerConfig, ExperimentConfig
from .experiment_config import CONFIG_FILE, build_config, load_experiment_config
from .runner import Runner
from .training import latest_state

__all__ = ["main", "parse_args", "run", "run_parsed", "Runner", "TrainingInterrupted"]
log = logging.getLogger(__name__)


def flag_settings(args: argparse.Namespace) -> Flags:
    """The flags that set config fields (-s, -l, --upstream_feature_normalize, --data, --label-fraction,
    --seed), each as given -> the typed values it sets; set after -c and -o (a flag and an -o that set
    one key are an error)."""
    flags: dict[str, dict[str, Any]] = {}
    selection, layer = args.feature_selection, args.layer
    one = ONE_HIDDEN_STATE.fullmatch(selection or "")
    if one:  # s3prl's -s hidden_state_N
        if layer is not None and layer != int(one.group(1)):
            raise UsageError(f"-s {selection} and -l {layer} name two hidden states: give one")
        flags[f"-s {selection}"] = {"featurizer.mode": "hidden_states", "featurizer.layer": int(one.group(1))}
    elif selection:
        mode = FEATURE_SELECTIONS[selection]
        if layer is not None and mode == "weighted_sum":
            mode = "hidden_states"  # s3prl: -s hidden_states -l N is that one hidden state
        flags[f"-s {selection}"] = {"featurizer.mode": mode}
    if layer is not None and not one:
        flags[f"-l {layer}"] = {"featurizer.layer": layer}
        if not selection:
            flags[f"-l {layer}"]["featurizer.mode"] = "hidden_states"
    if args.upstream_feature_normalize:
        flags["--upstream_feature_normalize"] = {"featurizer.layer_norm": True}
    if args.data:
        flags[f"--data {shlex.quote(args.data)}"] = {"data.roots": [args.data]}
    if args.label_fraction is not None:
        flags[f"--label-fraction {args.label_fraction:g}"] = {"data.label_fraction": args.label_fraction}
    if args.seed is not None:
        flags[f"--seed {args.seed}"] = {"seed": args.seed}
    return flags


def upstream_settings(args: argparse.Namespace) -> Flags:
    """-u, -k, -f and (training) -i: the upstream and start of a new experiment (a resumed one keeps its own)."""
    flags: dict[str, dict[str, Any]] = {f"-u {shlex.quote(args.upstream)}": {"upstream": args.upstream}}
    if args.upstream_ckpt:
        flags[f"-k {shlex.quote(args.upstream_ckpt)}"] = {"upstream_ckpt": args.upstream_ckpt}
    if args.finetune:
        flags["-f"] = {"finetune": True}
    if args.precision:
        flags[f"--precision {args.precision}"] = {"precision": args.precision}
    if args.init_ckpt and args.mode == "train":
        flags[f"-i {shlex.quote(args.init_ckpt)}"] = {"init_ckpt": args.init_ckpt}
    return flags


def run(argv: list[str] | None = None) -> dict:
    return run_parsed(parse_args(argv))


def experiment_of(path: Path) -> tuple[Path, Path | None]:
    """s3prl's ``-e``: an experiment folder, or a checkpoint file in one -> (folder, that file)."""
    if path.is_file():
        return path.parent, path
    if path.suffix == ".ckpt":
        held = sorted(p.name for p in path.parent.glob("*.ckpt")) if path.parent.is_dir() else []
        where = f"; {path.parent} holds {', '.join(held)}" if held else ""
        raise MissingFileError(
            f"-e {path}: no such checkpoint file{where} (dev-best.ckpt: the best dev evaluation, states-N.ckpt: "
            "the latest state, at step N)"
        )
    return path, None


def resolve_experiment(args: argparse.Namespace) -> tuple[Path, Path | None, ExperimentConfig, bool]:
    """(experiment folder, checkpoint to score, config, whether the folder's run goes on) from the flags."""
    past = args.past_exp
    if args.auto_resume and not past and (args.expname or args.expdir):
        folder = experiment_dir(DEFAULT_RESULT_DIR, args.expname, args.expdir)
        if (folder / CONFIG_FILE).is_file():  # s3prl's -a: the folder holds a run: go on with it
            past = str(folder)
    if past:
        expdir, checkpoint = experiment_of(Path(past))
        if args.init_ckpt:
            if args.mode == "train":
                raise UsageError("-i CKPT starts a new run from CKPT's weights and -e resumes a run: give one")
            checkpoint = Path(args.init_ckpt)  # s3prl: -e's config, -i's weights
        latest = latest_state(expdir)
        if args.mode == "train" and checkpoint is not None and checkpoint.resolve() != (latest and latest.resolve()):
            raise UsageError(
                f"-e {checkpoint}: training resumes from the latest state, {latest} (-e {expdir}); "
                "a checkpoint file other than that is for -m evaluate"
            )
        return expdir, checkpoint, load_experiment_config(expdir, args.override, flag_settings(args)), True
    if args.mode == "evaluate" and not args.init_ckpt:
        raise UsageError("evaluate needs the experiment folder: -e EXPDIR (or -i CKPT with -u, -d and -n)")
    if not args.downstream or not args.upstream:
        raise UsageError(f"{'training' if args.mode == 'train' else 'evaluating'} a new experiment needs -u and -d")
    if not (args.expname or args.expdir):
        raise UsageError("name the experiment with -n NAME (or --expdir DIR)")
    expdir = experiment_dir(DEFAULT_RESULT_DIR, args.expname, args.expdir)
    flags = {**upstream_settings(args), **flag_settings(args)}
    config = build_config(args.downstream, args.config, args.override, flags=flags)
    return expdir, Path(args.init_ckpt) if args.mode == "evaluate" else None, config, False


def apply_process_flags(args: argparse.Namespace) -> None:
    """s3prl's flags that set up the process: --cache_dir, --disable_cudnn, --local_rank."""
    import torch

    if args.cache_dir:
        torch.hub.set_dir(args.cache_dir)
    if args.disable_cudnn:
        torch.backends.cudnn.enabled = False
    if args.local_rank is not None:  # torch.distributed.launch's flag; torchrun and the launcher set LOCAL_RANK
        os.environ.setdefault("LOCAL_RANK", str(args.local_rank))
    if args.upstream_model_config:
        log.warning(
            "-g %s: unused, as s3prl's mockingjay and audio_albert upstreams leave it", args.upstream_model_config
        )


def run_parsed(args: argparse.Namespace) -> dict:
    apply_runtime_flags(args)
    if args.list_tasks:
        list_tasks()
        return {}
    check_downstream_flags(args)
    if args.mode == "inference":
        raise UsageError(
            "-m inference (s3prl's prediction dump) is not offered: -m evaluate -e EXPDIR scores "
            "the test split and writes EXPDIR/results.json"
        )
    apply_process_flags(args)
    expdir, checkpoint, config, goes_on = resolve_experiment(args)
    record = None
    if args.mode == "train" or not goes_on:  # what the folder's first file says (see aalbert.experiment)
        asked = (read_record(expdir) or {}).get("asked", {}).get("task") if goes_on else args.downstream
        record = experiment_record(config, asked)
    dist.init_distributed(args.device, args.backend)
    opened = None
    try:
        # rank 0 holds the folder while the run lasts (evaluating writes results.json: it holds it too)
        opened = dist.on_main_rank(
            lambda: open_experiment(
                expdir,
                record,
                resuming=goes_on,
                overwrite=args.overwrite,
                may_change=DownstreamRunnerConfig.resume_may_change(),
                config_class=ExperimentConfig,
            )
        )
        if opened is not None and opened.moved_to is not None:
            print(f"--overwrite: moved the old contents of {expdir} to {opened.moved_to}", file=sys.stderr)
        if args.upstream_refresh:
            dist.on_main_rank(lambda: refresh_upstream(config.upstream, config.upstream_ckpt))
        runner = Runner(config, expdir, record=record, device=args.device, progress=not args.no_progress)
        if args.verbose and dist.is_main():
            print(describe_model(runner.model))
        if args.mode == "train":
            results = runner.train(continuing=bool(args.past_exp))
        else:
            if not goes_on and dist.is_main():  # -i CKPT in a new folder: it is an experiment -e can name
                save_config(config, expdir / CONFIG_FILE)
            results = runner.evaluate(checkpoint=checkpoint, split=args.evaluate_split or "test")
    finally:
        if opened is not None:
            opened.close()
        dist.cleanup()
    if dist.is_main() and results:
        print(json.dumps({"expdir": str(expdir), **results["metrics"]}, indent=2))
    return results


def refresh_upstream(name: str, ckpt: str | None) -> None:
    from aalbert.hub import refresh_download  # late: the hub imports every upstream family

    if not refresh_download(name, ckpt):
        log.warning("-r: upstream %s downloads nothing: nothing to refresh", name)


def describe_model(model) -> str:
    """--verbose: the model, and how many of its parameters are trained."""
    total = sum(p.numel() for p in model.parameters())
    trained = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return f"{model}\nparameters: {total:,}, trained: {trained:,}"


def experiment_record(config, asked: str | None = None) -> dict:
    """What makes a downstream experiment: its resolved config and the upstream's identity; ``asked``:
    the task name -d gave, recorded when it is another name (s3prl's) for ``config.task``."""
    from aalbert.hub import upstream_identity  # late: the hub imports every upstream family

    about: dict[str, Any] = {"upstream": upstream_identity(config.upstream, config.upstream_ckpt)}
    if asked and asked != config.task:
        about["asked"] = {"task": asked}
    return make_record("downstream", to_dict(config), **about)
