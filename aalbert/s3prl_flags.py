"""s3prl 0.4.18's flags of ``run_downstream.py`` and ``run_pretrain.py`` that our own flags do not
spell already (those carry s3prl's spelling beside ours: ``-f`` / ``--upstream_trainable``): each is
accepted with s3prl's meaning, or refused with why and what to use instead.

Torch-free, as the commands' parsers are: this module parses and refuses; what an accepted flag
does is the command's work (aalbert.downstream.cli, aalbert.pretrain.cli).
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from aalbert.errors import UsageError

SPLITS = ("train", "dev", "test")  # what -t may name: every task's splits here


@dataclass(frozen=True)
class Refused:
    """An s3prl flag that has no meaning here: why, and what to use instead."""

    flags: tuple[str, ...]  # s3prl's spellings
    why: str

    @property
    def dest(self) -> str:
        return self.flags[-1].lstrip("-")


_HF_UPLOAD = (
    "aalbert publishes nothing to the Hugging Face Hub; copy the experiment folder (config.yaml, "
    "dev-best.ckpt, results.json) there yourself"
)
_HF_MODEL = (
    "it names a file of --hub huggingface, which is not offered; download the checkpoint and give it with "
    "-u mockingjay_local -k FILE"
)
DOWNSTREAM_REFUSED = (
    Refused(("--push_to_hf_hub",), _HF_UPLOAD),
    Refused(("--hf_hub_org",), _HF_UPLOAD),
    Refused(("--upstream_model_name",), _HF_MODEL),
    Refused(("--upstream_revision",), _HF_MODEL),
    Refused(
        ("-v", "--downstream_variant"),
        "no task here has variants (s3prl reads -v only in its emotion task, as the test fold); "
        "pick the task with -d (--list-tasks)",
    ),
)

# run_pretrain.py -u: s3prl's pretraining folders -> the family built here
PRETRAIN_FAMILIES = {"aalbert": "aalbert", "audio_albert": "aalbert", "mockingjay": "mockingjay"}
S3PRL_ONLY_PRETRAINING = ("apc", "npc", "vq_apc", "tera", "spec_augment")


def add_downstream_flags(p: argparse.ArgumentParser) -> None:
    """s3prl's run_downstream.py flags beyond ours, and the ones refused."""
    g = p.add_argument_group("more of s3prl's run_downstream.py flags")
    g.add_argument(
        "-t", "--evaluate_split", metavar="SPLIT", help=f"the split -m evaluate scores: {', '.join(SPLITS)} (test)"
    )
    g.add_argument(
        "-i",
        "--init_ckpt",
        metavar="CKPT",
        help="-m evaluate: score this checkpoint (with -e EXPDIR's config, or a new folder's from -u -d -n); "
        "-m train: a new run starts from its trained weights (featurizer, head; the upstream's with -f), "
        "its steps and optimizer anew",
    )
    g.add_argument(
        "-a", "--auto_resume", action="store_true", help="resume the run the folder (-n/-p) holds, else start it"
    )
    g.add_argument(
        "-r", "--upstream_refresh", action="store_true", help="download the upstream again (pretrained names, *_url)"
    )
    g.add_argument(
        "-g",
        "--upstream_model_config",
        metavar="FILE",
        help="accepted and unused, as s3prl's mockingjay and audio_albert upstreams leave it unused "
        "(the checkpoint's own config builds the model)",
    )
    g.add_argument(
        "--upstream_feature_normalize",
        action="store_true",
        help="normalise each hidden state before the weighted sum (featurizer.layer_norm)",
    )
    g.add_argument("--hub", choices=("torch", "huggingface"), default="torch", help="torch: `aalbert hub list`'s names")
    g.add_argument("--backend", choices=("nccl", "gloo"), help="torchrun's process group (nccl on CUDA, else gloo)")
    g.add_argument(
        "--local_rank", "--local-rank", type=int, help="given by torch.distributed.launch (LOCAL_RANK says it too)"
    )
    g.add_argument("--cache_dir", metavar="DIR", help="where downloads are kept (torch.hub.set_dir)")
    g.add_argument("--verbose", action="store_true", help="print the model and its parameter counts")
    g.add_argument("--disable_cudnn", action="store_true", help="torch.backends.cudnn.enabled = False")
    _add_refused(p, DOWNSTREAM_REFUSED)


def check_downstream_flags(args: argparse.Namespace) -> None:
    """A UsageError for a refused flag, or an accepted one whose value has no meaning here."""
    _check_refused(args, DOWNSTREAM_REFUSED)
    if args.hub == "huggingface":
        raise UsageError(
            "--hub huggingface: not offered (aalbert loads mockingjay / audio_albert checkpoints by hub name, "
            "file or URL): -u NAME (`aalbert hub list`), or -u mockingjay_local -k FILE, or -u mockingjay_url -k URL"
        )
    split = args.evaluate_split
    if split is not None and split not in SPLITS:
        raise UsageError(
            f"-t {split}: the splits here are {', '.join(SPLITS)} (which utterances each holds: data.splits, "
            "or the task's split_policy)"
        )
    if args.mode == "train" and split not in (None, "test"):
        raise UsageError(
            f"-t {split} picks the split -m evaluate scores; training evaluates dev every runner.eval_step and "
            "test at the end: evaluate the trained run with -m evaluate -t SPLIT -e EXPDIR"
        )
    local_rank = os.environ.get("LOCAL_RANK")
    if args.local_rank is not None and local_rank is not None and int(local_rank) != args.local_rank:
        raise UsageError(f"--local_rank {args.local_rank} but LOCAL_RANK={local_rank}: give one")


def add_pretrain_flags(p: argparse.ArgumentParser) -> None:
    """s3prl's run_pretrain.py flags beyond ours."""
    g = p.add_argument_group("more of s3prl's run_pretrain.py flags")
    g.add_argument(
        "-g",
        "--upstream_config",
        metavar="CONFIG_PATH",
        help="s3prl's config_model.yaml (its transformer, task and audio sections), over the -c recipe",
    )
    g.add_argument(
        "-a", "--auto_resume", action="store_true", help="resume from the folder's latest checkpoint, if it has one"
    )
    g.add_argument(
        "--multi_gpu",
        action="store_true",
        help="s3prl's DataParallel: accepted under torchrun (one process per GPU) or with one GPU; "
        "with several GPUs run under torchrun --nproc_per_node N instead",
    )


def pretrain_family(name: str) -> str:
    """``-u``: the family pretraining builds from s3prl's name (``audio_albert`` -> ``aalbert``)."""
    if name in PRETRAIN_FAMILIES:
        return PRETRAIN_FAMILIES[name]
    if name in S3PRL_ONLY_PRETRAINING:
        raise argparse.ArgumentTypeError(
            f"{name}: s3prl's {name} pretraining is not offered here (only mockingjay and audio_albert, alias "
            "aalbert); pretrain it with s3prl"
        )
    raise argparse.ArgumentTypeError(f"{name!r}: choose from {', '.join(PRETRAIN_FAMILIES)}")


def _add_refused(p: argparse.ArgumentParser, refused: tuple[Refused, ...]) -> None:
    g = p.add_argument_group("s3prl flags not offered here (each is an error saying why)")
    for flag in refused:
        g.add_argument(*flag.flags, dest=flag.dest, nargs="?", const=True, metavar="X", help=argparse.SUPPRESS)
    g.description = ", ".join("/".join(flag.flags) for flag in refused)


def _check_refused(args: argparse.Namespace, refused: tuple[Refused, ...]) -> None:
    for flag in refused:
        if getattr(args, flag.dest) is not None:
            raise UsageError(f"{'/'.join(flag.flags)}: not offered: {flag.why}")
