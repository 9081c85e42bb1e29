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
TensorBoard: one run per probe, ``tb/layer_LL_PROBE`` (train loss, lr, accuracy and dev metrics per
epoch, as a downstream task logs them), and ``tb/by_layer`` (dev and test accuracy against layer).
"""

from __future__ import annotations

import argparse
import logging
import shutil
from dataclasses import asdict
from pathlib import Path

import torch
from torch import nn

from aalbert.command_flags import from_flags
from aalbert.config_layers import settings_spelled
from aalbert.distributed import resolve_device
from aalbert.downstream.chance import chance_levels
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import load_corpus
from aalbert.downstream.expert import Expert, TaskContext
from aalbert.downstream.feature_cache import FeatureCache, Pool, cache_manifest, fill_cache
from aalbert.downstream.registry import expert_from_spec
from aalbert.errors import BadInputError
from aalbert.training_log import TENSORBOARD_DIR, summary_writer
from aalbert.upstream.sizes import UpstreamSizes

from .command import checkpoint_words, output_dir, owned_folder
from .probe import train_probe
from .probe_command import DATA_FLAGS, build_parser, main
from .probe_config import PROBING_TASKS, ProbeTrainConfig, ProbingConfig, probe_depth
from .probe_results import (
    CSV_NAME,
    JSON_NAME,
    PNG_NAME,
    PROGRESS_NAME,
    ProbeProgress,
    upstream_fingerprint,
    write_outputs,
)

# build_parser and main (the command, torch-free) re-exported: run_probe.py and tests import them from here
__all__ = ["ProbingConfig", "build_parser", "config_from_args", "main", "run", "run_args", "select_layers"]
log = logging.getLogger(__name__)


def select_layers(requested: list[int] | None, num_hidden_states: int) -> list[int]:
    if requested is None:
        return list(range(num_hidden_states))
    bad = [i for i in requested if not 0 <= i < num_hidden_states]
    if bad:
        raise BadInputError(f"layer(s) {bad} out of range: this upstream has hidden states 0..{num_hidden_states - 1}")
    return sorted(set(requested))


def probing_expert(task: str) -> type[Expert]:
    """The downstream expert that trains the probes of a probing task (PROBING_TASKS names it)."""
    return expert_from_spec(PROBING_TASKS[task], Path(__file__).with_name("probe_config.py"))


def probe_logdir(out_dir: Path, layer: int, probe: str) -> Path:
    """The probe's own TensorBoard run, emptied first: a probe left unfinished by an interrupted run
    is trained again from its start, and its old events would draw a second curve over the new one."""
    logdir = out_dir / TENSORBOARD_DIR / f"layer_{layer:02d}_{probe}"
    shutil.rmtree(logdir, ignore_errors=True)
    return logdir


def log_by_layer(rows: list[dict], metric: str, out_dir: Path) -> None:
    """Dev and test ``metric`` against the layer (as TensorBoard's step), a curve per probe; rewritten
    whole from every row (earlier runs' too), so a resumed run leaves one point per layer."""
    logdir = out_dir / TENSORBOARD_DIR / "by_layer"
    shutil.rmtree(logdir, ignore_errors=True)
    writer = summary_writer(logdir)
    for row in sorted(rows, key=lambda r: r["layer"]):
        for split in ("dev", "test"):
            writer.add_scalar(f"{split}_{metric}/{row['probe']}", row[f"{split}_{metric}"], row["layer"])
    writer.close()


def run(
    config: ProbingConfig, out_dir: str | Path, upstream: nn.Module | None = None, progress: bool = True
) -> list[dict]:
    """Probe every (selected) hidden state with every probe; write the table and the plot."""

    device = resolve_device(config.device)
    expert_class = probing_expert(config.task)
    corpus = load_corpus(config.data, expert_class.task_data())
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
                    logdir=probe_logdir(Path(out_dir), layer, name),
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
    chance = chance_levels(corpus, expert_class.labels[0])  # what always answering train's majority class scores
    write_outputs(rows, config, expert_class.main_metric, corpus, info, out_dir, chance)
    log_by_layer(rows, expert_class.main_metric, Path(out_dir))
    return rows


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def config_from_args(args: argparse.Namespace) -> ProbingConfig:
    layers = _csv(args.layers)
    try:
        layer_ids = None if layers is None else [int(v) for v in layers]
    except ValueError as err:
        raise BadInputError(f"--layers must be comma-separated integers, got {args.layers!r}") from err
    data = from_flags(DataConfig, args, {"roots": "--data"}, roots=[args.data], subsets=_csv(args.subsets) or [])
    return from_flags(
        ProbingConfig,
        args,
        {"ckpt": "-k"},
        ckpt=args.upstream_ckpt,
        probes=_csv(args.probes) or [],
        layers=layer_ids,
        data=data,
        train=from_flags(ProbeTrainConfig, args),
    )


# how a probing run computes, not what it computes: not part of its record
RUNTIME_SETTINGS = ("device", "extract_batch_size", "cache_dir", "cache_check")


def run_args(args: argparse.Namespace) -> str:
    """``aalbert probe`` once its flags are parsed: the run, in its own folder; what it wrote."""
    config = config_from_args(args)
    out = output_dir(args, "result/probe", config.upstream, checkpoint_words(config.ckpt), config.task)
    settings = {k: v for k, v in asdict(config).items() if k not in RUNTIME_SETTINGS}
    with owned_folder(out, "probe", settings, upstream_fingerprint(config), args.overwrite):
        with settings_spelled(DATA_FLAGS):  # a message about data.alignment names --alignment
            run(config, out, progress=not args.no_progress)
    return f"wrote {out / CSV_NAME}, {JSON_NAME} and {PNG_NAME}"
