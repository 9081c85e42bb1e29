"""Per-layer probing: what each hidden state of a frozen upstream knows about phones or speakers.

    python run_probe.py -u aalbert_local -k CKPT --task phone --probes linear,1hidden,2hidden \\
        --data data/LibriSpeech --out result/probe

Data, labels and splits come from the downstream package exactly as a downstream task reads
them (any corpus reader: ``--format librispeech|timit|kaldi|lhotse``; split lists, or the
task's seeded 8:1:1 split: speaker-disjoint for phones, per speaker for speakers). The upstream
runs once; every hidden state (0 = input representation .. L) is cached (``--cache-dir`` for
sets too big for memory) and each probe is trained on each of them: a probe is a downstream
model trained and scored by the downstream code (see probe.py).
Writes ``probe_results.csv`` / ``probe_results.json`` (one row per layer x probe: dev and
test accuracy) and ``probe_accuracy.png`` (test accuracy against layer, one line per probe).
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from aalbert.command_flags import (
    add_experiment_flags,
    add_runtime_flags,
    add_upstream_flags,
    command_parser,
    from_flags,
    progress_bars,
)
from aalbert.distributed import resolve_device
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import load_corpus
from aalbert.downstream.expert import TaskContext
from aalbert.downstream.feature_cache import FeatureCache, Pool, cache_manifest, fill_cache
from aalbert.errors import BadInputError
from aalbert.upstream.sizes import UpstreamSizes

from .command import checkpoint_words, output_dir, owned_folder, run_command
from .probe import PROBES, ProbeTrainConfig, probe_depth, train_probe
from .probe_config import TASKS, ProbingConfig
from .probe_results import (
    CSV_NAME,
    JSON_NAME,
    PNG_NAME,
    PROGRESS_NAME,
    ProbeProgress,
    upstream_fingerprint,
    write_outputs,
)

log = logging.getLogger(__name__)
EXAMPLES = [
    "aalbert probe -u aalbert_local -k result/pretrain/tiny/states-500.ckpt --task phone --data data/synth40 -n tiny",
    "aalbert probe -u fbank --task speaker --probes linear --data data/synth40 -n fbank_speaker",
    "aalbert probe -u aalbert --task phone --format timit --data /data/TIMIT --cache-dir /scratch/probe_cache",
]


def select_layers(requested: list[int] | None, num_hidden_states: int) -> list[int]:
    if requested is None:
        return list(range(num_hidden_states))
    bad = [i for i in requested if not 0 <= i < num_hidden_states]
    if bad:
        raise BadInputError(f"layer(s) {bad} out of range: this upstream has hidden states 0..{num_hidden_states - 1}")
    return sorted(set(requested))


def run(
    config: ProbingConfig, out_dir: str | Path, upstream: nn.Module | None = None, progress: bool = True
) -> list[dict]:
    """Probe every (selected) hidden state with every probe; write the table and the plot."""

    device = resolve_device(config.device)
    corpus = load_corpus(config.data, TASKS[config.task].task_data())
    if upstream is None:
        from aalbert.hub import load_upstream  # late: the hub imports every upstream family

        # seeded: a randomly initialised hub model is then the same model every run, so a disk
        # cache made by an earlier run still holds *its* features
        torch.manual_seed(config.train.seed)
        upstream = load_upstream(config.upstream, config.ckpt)
    sizes = UpstreamSizes.of(upstream)
    layers = select_layers(config.layers, sizes.num_hidden_states)
    info = {"name": config.upstream, "ckpt": config.ckpt, **asdict(sizes)}

    # speaker probes see only the utterance mean, so cache just that (identical to pooling later)
    pool: Pool = "mean" if config.task == "speaker" else "none"
    cache = FeatureCache(sizes.num_hidden_states, config.cache_dir)
    everything = [u for split in ("train", "dev", "test") for u in corpus.splits[split]]
    # a randomly initialised hub model is built from the training seed (see above)
    manifest = cache_manifest(config.upstream, config.ckpt, config.train.seed, pool)
    fill_cache(
        upstream, everything, cache, manifest, pool, config.extract_batch_size, device, progress, config.cache_check
    )
    del upstream  # only cached features are needed from here on
    if device.type == "cuda":
        torch.cuda.empty_cache()

    expert_class = TASKS[config.task]
    context = TaskContext(sizes.hidden_size, sizes.downsample_rate, corpus)
    progress_file = ProbeProgress(Path(out_dir) / PROGRESS_NAME, config, upstream_fingerprint(config))
    rows = []
    for layer in layers:
        features = None
        for name in config.probes:
            row = progress_file.done(layer, name)
            if row is None:
                if features is None:  # this layer read once (from disk, for a disk cache) for all its probes
                    features = cache.in_memory([layer], [u.uttid for u in everything])
                result = train_probe(
                    expert_class,
                    context,
                    probe_depth(name),
                    features,
                    layer,
                    config.train,
                    device,
                    desc=f"layer {layer} {name}",
                    progress=progress,
                )
                metric = expert_class.main_metric
                row = {
                    "layer": layer,
                    "probe": name,
                    "hidden_layers": probe_depth(name),
                    f"dev_{metric}": result.dev[metric],
                    f"test_{metric}": result.test[metric],
                    "best_epoch": result.best_epoch,
                    "epochs_run": result.epochs_run,
                    "steps": result.steps,
                }
                progress_file.add(row)  # kept at once: an interrupted run redoes only unfinished probes
                log.info(
                    "layer %d %s: dev %s %.4f, test %.4f", layer, name, metric, result.dev[metric], result.test[metric]
                )
            else:
                log.info("layer %d %s: done in an earlier run (%s)", layer, name, progress_file.path)
            rows.append(row)
    write_outputs(rows, config, expert_class.main_metric, corpus, info, out_dir)
    return rows


def build_parser() -> argparse.ArgumentParser:
    p = command_parser("run_probe.py", __doc__.split("\n\n")[0], EXAMPLES)
    add_upstream_flags(p)
    p.add_argument("--task", choices=sorted(TASKS), required=True)
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


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def config_from_args(args: argparse.Namespace) -> ProbingConfig:
    layers = _csv(args.layers)
    try:
        layer_ids = None if layers is None else [int(v) for v in layers]
    except ValueError as err:
        raise BadInputError(f"--layers must be comma-separated integers, got {args.layers!r}") from err
    data = from_flags(DataConfig, args, root=args.data, subsets=_csv(args.subsets) or [])
    return from_flags(
        ProbingConfig,
        args,
        ckpt=args.upstream_ckpt,
        probes=_csv(args.probes) or [],
        layers=layer_ids,
        data=data,
        train=from_flags(ProbeTrainConfig, args),
    )


# how a probing run computes, not what it computes: not part of its record
RUNTIME_SETTINGS = ("device", "extract_batch_size", "cache_dir", "cache_check")


def main(argv: list[str] | None = None) -> int:
    def probing(args: argparse.Namespace) -> str:
        config = config_from_args(args)
        out = output_dir(args, "result/probe", config.upstream, checkpoint_words(config.ckpt), config.task)
        settings = {k: v for k, v in asdict(config).items() if k not in RUNTIME_SETTINGS}
        with owned_folder(out, "probe", settings, upstream_fingerprint(config), args.overwrite):
            run(config, out, progress=progress_bars())
        return f"wrote {out / CSV_NAME}, {JSON_NAME} and {PNG_NAME}"

    return run_command(build_parser(), argv, probing)


if __name__ == "__main__":
    sys.exit(main())
