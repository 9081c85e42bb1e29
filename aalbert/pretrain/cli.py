"""``aalbert pretrain`` (alias ``run_pretrain.py``): s3prl-style flags for pretraining (single
process or under torchrun). The parser is torch-free (``--help`` answers at once); the work's
imports come once the flags are parsed.

aalbert pretrain -u aalbert -c config/pretrain/tiny.yaml -n tiny_run [-o optimizer.lr=1e-4]
aalbert pretrain -e result/pretrain/tiny_run            # resume from the latest checkpoint
torchrun --nproc_per_node 2 run_pretrain.py -u mockingjay -c pretrain/paper_3l -n mj3
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aalbert.command_flags import (
    add_experiment_flags,
    add_override_flag,
    add_runtime_flags,
    apply_runtime_flags,
    command_parser,
)
from aalbert.errors import UsageError, report_error
from aalbert.s3prl_flags import PRETRAIN_FAMILIES, add_pretrain_flags, pretrain_family

if TYPE_CHECKING:
    from aalbert.experiment import OpenedExperiment
    from aalbert.pretrain.config import PretrainConfig

PROG = "run_pretrain.py"  # the checkout's alias; `aalbert pretrain` passes its own name
EXAMPLES = [
    "aalbert pretrain -u aalbert -c pretrain/tiny -n tiny -o data.roots=[data/synth40]",
    "aalbert pretrain -u mockingjay -c pretrain/paper_3l -n mj3 -o data.roots=[librispeech:/data/LibriSpeech]",
    "aalbert pretrain -e result/pretrain/tiny -o runner.total_steps=2000    # resume, train longer",
    "torchrun --nproc_per_node 2 -m aalbert pretrain -u aalbert -c pretrain/paper_3l -n al3 -o data.roots=[...]",
    "run_pretrain.py -u audio_albert -g config_model.yaml -n al3 -o data.roots=[...]   # s3prl's flags and names",
]


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    p = command_parser(prog, "Pretrain Mockingjay / Audio ALBERT (masked acoustic model).", EXAMPLES)
    p.add_argument(
        "-u",
        "--upstream",
        type=pretrain_family,
        metavar="{" + ",".join(PRETRAIN_FAMILIES) + "}",
        help="aalbert (s3prl: audio_albert): all layers share one weight group; mockingjay: no sharing "
        "(required unless -e)",
    )
    p.add_argument("-c", "--config", help="recipe YAML, e.g. config/pretrain/tiny.yaml (required unless -e)")
    add_experiment_flags(
        p, "result/pretrain", resume="resume from a checkpoint file or an experiment folder (its latest checkpoint)"
    )
    add_override_flag(p, "optimizer.lr=1e-4,runner.batch_size=4")
    p.add_argument("--seed", type=int, help="random seed (default: the recipe's)")
    add_runtime_flags(p)
    add_pretrain_flags(p)
    p.add_argument("--dump-weights", help=argparse.SUPPRESS)  # debugging/tests: each rank saves its final weights here
    return p


def resolve(args: argparse.Namespace) -> tuple[PretrainConfig, Path, Path | None]:
    """(config, experiment folder, checkpoint to resume) from the parsed flags (reads, never writes)."""
    return _resolve_flags(args)


def open_folder(
    args: argparse.Namespace, cfg: PretrainConfig, expdir: Path, resume: Path | None
) -> tuple[OpenedExperiment, Path | None]:
    """Lock and claim ``expdir`` for this run (rank 0 only); the checkpoint to resume from, if any."""
    from aalbert.config import to_dict
    from aalbert.experiment import make_record, open_experiment
    from aalbert.pretrain.checkpoints import list_checkpoints
    from aalbert.pretrain.config import PretrainConfig, PretrainRunnerConfig

    opened = open_experiment(
        expdir,
        make_record("pretrain", to_dict(cfg)),
        resuming=resume is not None,
        overwrite=args.overwrite,
        may_change=PretrainRunnerConfig.resume_may_change(),
        config_class=PretrainConfig,
    )
    if opened.action == "continue" and resume is None:
        found = list_checkpoints(expdir)
        if found:  # the same command again: go on from where it stopped
            resume = found[-1]
    return opened, resume


def _resolve_flags(args: argparse.Namespace) -> tuple[PretrainConfig, Path, Path | None]:
    from aalbert import previous_release
    from aalbert.checkpoint_file import load_checkpoint_file
    from aalbert.config import ConfigError
    from aalbert.config_layers import ConfigLayers, find_recipe, load_config
    from aalbert.experiment import experiment_dir
    from aalbert.pretrain.checkpoints import list_checkpoints, resolve_resume
    from aalbert.pretrain.config import PretrainConfig, set_upstream
    from aalbert.pretrain.s3prl_model_config import model_config_layer

    check_multi_gpu(args)
    if args.auto_resume and not args.past_exp and (args.expname or args.expdir):
        folder = experiment_dir(Path("result") / "pretrain", args.expname, args.expdir)
        if list_checkpoints(folder):  # s3prl's -a: the folder has checkpoints: go on from its latest
            args.past_exp = str(folder)
    resume = resolve_resume(args.past_exp) if args.past_exp else None
    flags = {f"--seed {args.seed}": {"seed": args.seed}} if args.seed is not None else {}
    shares = None
    if args.config or args.upstream_config:
        layers = ConfigLayers(args.config or args.upstream_config)
        if args.config:
            layers.add_file(find_recipe(args.config))
        if args.upstream_config:  # s3prl's config_model.yaml, over the recipe
            layer, shares = model_config_layer(args.upstream_config)
            layers.add(layer, f"-g {args.upstream_config}")
        cfg = load_config(PretrainConfig, None, args.override, layers, flags)
    elif resume is not None:
        # s3prl resumes with the experiment's own config; -o still applies (e.g. more steps)
        saved = load_checkpoint_file(resume).get("Config")
        if not isinstance(saved, dict) or not ({"runner", "optim"} & saved.keys()):
            raise ConfigError(f"checkpoint {resume} holds no pretraining config; pass -c")
        saved = previous_release.upgrade("pretrain", saved, where=str(resume))
        cfg = load_config(PretrainConfig, None, args.override, ConfigLayers(str(resume)).add(saved, str(resume)), flags)
    else:
        raise UsageError(
            "give a recipe with -c (or s3prl's config_model.yaml with -g, or resume an experiment with -e)"
        )
    if args.upstream:
        if shares is not None and shares != (args.upstream == "aalbert"):
            raise UsageError(
                f"-g {args.upstream_config} says share_layer: {shares} but -u {args.upstream} "
                f"{'shares one layer' if args.upstream == 'aalbert' else 'shares none'}: -u decides, make them agree"
            )
        cfg = set_upstream(cfg, args.upstream)
    elif resume is None:
        raise UsageError("give the upstream with -u aalbert or -u mockingjay")
    if not args.expdir and not args.expname and resume is not None:
        expdir = resume.parent
    else:
        expdir = experiment_dir(Path("result") / "pretrain", args.expname, args.expdir)
    if not cfg.data.roots:
        raise ConfigError("no training data: set data.roots in the recipe or with -o data.roots=[path,...]")
    return cfg, expdir, resume


def check_multi_gpu(args: argparse.Namespace) -> None:
    """s3prl's --multi_gpu (DataParallel): torchrun's processes already use one GPU each, and one GPU
    needs nothing; several GPUs in one process are refused, saying how to use them."""
    if not args.multi_gpu or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return
    import torch

    if torch.cuda.device_count() > 1:
        raise UsageError(
            f"--multi_gpu (s3prl's DataParallel) is not offered: run one process per GPU with torchrun "
            f"--nproc_per_node {torch.cuda.device_count()} -m aalbert pretrain ... (DDP)"
        )


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        apply_runtime_flags(args)
        cfg, expdir, resume = resolve(args)
    except Exception as err:  # noqa: BLE001 - one line for the user's errors, a traceback for bugs
        return report_error(err, prog, args.debug)
    # the work: torch, the model, the loop
    from aalbert.config import ConfigError
    from aalbert.distributed import broadcast_object, cleanup, init_distributed, on_main_rank
    from aalbert.pretrain.trainer import Trainer
    from aalbert.training_loop import TrainingInterrupted

    device = init_distributed(None if args.device == "auto" else args.device)
    opened = None
    try:
        try:
            # rank 0 holds the folder (the other ranks write nothing of their own) and tells them what to resume
            claimed = on_main_rank(lambda: open_folder(args, cfg, expdir, resume))
        except Exception as err:  # noqa: BLE001 - one line for the user's errors, a traceback for bugs
            return report_error(err, prog, args.debug)
        if claimed is not None:
            opened, resume = claimed
        resume = broadcast_object(resume)
        if opened is not None and opened.moved_to is not None:
            print(f"[pretrain] --overwrite: moved the old contents of {expdir} to {opened.moved_to}")
        elif opened is not None and resume is not None and not args.past_exp:
            print(f"[pretrain] {expdir} holds this run already: resuming from {resume.name}")
        saved_args = {k: v for k, v in vars(args).items() if k != "dump_weights"}
        try:
            trainer = Trainer(
                cfg,
                expdir,
                device,
                resume=resume,
                args=saved_args,
                dump_weights_dir=args.dump_weights,
                progress=not args.no_progress,
            )
            if args.past_exp and trainer.step >= cfg.runner.total_steps:
                raise ConfigError(
                    f"{resume} is at step {trainer.step} and runner.total_steps is {cfg.runner.total_steps}: nothing "
                    f"to train. To continue, give a larger total, e.g. -o runner.total_steps={2 * trainer.step}"
                )
            trainer.train()
        except TrainingInterrupted as stop:
            hint = f": resume with {prog} -e {stop.expdir}" if stop.expdir is not None else ""
            print(f"\n{prog}: {stop}{hint}", file=sys.stderr)
            return 130
        except Exception as err:  # noqa: BLE001 - one line for the user's errors, a traceback for bugs
            return report_error(err, prog, args.debug)
        if trainer.is_main:
            print(f"[pretrain] step {trainer.step}: checkpoint {trainer.last_checkpoint}")
    finally:
        if opened is not None:
            opened.close()
        cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
