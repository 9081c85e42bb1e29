"""``aalbert extract``'s work: the corpus, the upstream, the owned output folder, the shards
(in this process, ``--jobs N`` processes, or one per torchrun rank), the merged index, the summary.

The output folder is owned as an experiment folder (aalbert.experiment: locked, its record written
first; a folder holding anything else is refused, a rerun with other settings too, naming what
differs, unless ``--overwrite`` moves it aside). Its record holds everything that decides the
bytes written (the upstream's identity, the hidden states kept, the format, the precision, the
batch size, the number of shards), so a rerun with the same command continues where the last one
stopped (aalbert.extract.storage: verified by content).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import os
import queue
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

import aalbert.distributed as dist
from aalbert.atomic import write_text_atomic
from aalbert.config_layers import ConfigLayers
from aalbert.corpus.registry import check_reader_options
from aalbert.corpus.sources import read_source, source_specs
from aalbert.corpus.spec import CorpusConfig
from aalbert.corpus.utterance import Utterance
from aalbert.downstream.extraction import length_batches
from aalbert.downstream.feature_cache import cache_manifest
from aalbert.errors import AalbertError, BadInputError, UsageError
from aalbert.experiment import ExperimentError, OpenedExperiment, make_record, open_experiment

from .index import write_indexes
from .precision import upstream_options
from .selection import Selection, experiment_weights, parse_layers
from .shard import ShardStats, run_shard, shard_batches
from .storage import ShardStore, check_kaldi_ids

log = logging.getLogger(__name__)
SUMMARY = "summary.json"


class ExtractionFailed(AalbertError):
    pass


@dataclass
class ExtractData:
    """The corpus keys ``-o data.KEY=VALUE`` sets (the ``data`` section every recipe has)."""

    data: CorpusConfig = field(default_factory=CorpusConfig)


def corpus_config(args: argparse.Namespace) -> CorpusConfig:
    layers = ConfigLayers("the defaults").add_overrides(args.override)
    flags = {f"--format {args.format}": {"data.format": args.format}} if args.format else {}
    config = layers.build(ExtractData, flags).data
    check_reader_options(config.format, config.options or {}, origins=layers)
    return config


def read_utterances(args: argparse.Namespace) -> list[Utterance]:
    """Every utterance of ``--data``, in source order (aalbert.corpus.sources); ids must be unique."""
    utterances = [u for spec in source_specs(args.data, corpus_config(args)) for u in read_source(spec).utterances]
    seen: dict[str, Utterance] = {}
    for utt in utterances:
        if utt.uttid in seen:
            raise BadInputError(
                f"utterance id {utt.uttid!r} twice: {seen[utt.uttid].source or seen[utt.uttid].path} and "
                f"{utt.source or utt.path}; every extracted utterance needs an id of its own"
            )
        seen[utt.uttid] = utt
    return utterances


def upstream_name(args: argparse.Namespace) -> tuple[str, str | None]:
    """``-u``/``-k``; without ``-u``, the upstream the ``--weighted-sum`` experiment was trained on."""
    if args.upstream is not None:
        return args.upstream, args.upstream_ckpt
    results = Path(args.weighted_sum or "") / "results.json"
    if args.weighted_sum and results.is_file():
        trained = json.loads(results.read_text()).get("upstream") or {}
        if trained.get("name"):
            return trained["name"], trained.get("ckpt")
    raise UsageError("give the upstream with -u NAME (and -k CKPT for a checkpoint file)")


def load_model(args: argparse.Namespace, device: torch.device) -> nn.Module:
    from aalbert.hub import load_upstream  # late: every upstream family

    name, ckpt = upstream_name(args)
    torch.manual_seed(args.seed)  # a randomly initialised hub model is then the same model in every process
    return load_upstream(name, ckpt, **upstream_options(args.precision, device))


def num_hidden_states(upstream: nn.Module) -> int:
    layers: int = upstream.num_layers  # type: ignore[assignment]  # an nn.Module attribute of the Upstream contract
    return layers + 1  # the Upstream contract: the input representation + each layer


def selection_of(args: argparse.Namespace, states: int) -> Selection:
    weighted = experiment_weights(args.weighted_sum) if args.weighted_sum else None
    selection = Selection(parse_layers(args.layers, states), weighted)
    selection.check(states)
    return selection


def record(args: argparse.Namespace, selection: Selection, shards: int) -> dict:
    name, ckpt = upstream_name(args)
    settings = {
        "data": {"entries": [str(d) for d in args.data], "corpus": asdict(corpus_config(args))},
        "selection": selection.describe(),
        "output_format": args.output_format,
        "precision": args.precision,
        "batch_size": args.batch_size,
        "shards": shards,
    }
    return make_record("extract", settings, upstream=cache_manifest(name, ckpt, args.seed, "none"))


def open_output(out: Path, settings: dict, overwrite: bool) -> OpenedExperiment:
    """The output folder, owned as an experiment folder; a rerun of the same command continues."""
    try:
        return open_experiment(out, settings, overwrite=overwrite)
    except ExperimentError as err:
        problem = str(err).split(" To go on:")[0]  # its advice names downstream's -e, which extract has no need of
        raise ExperimentError(
            f"{problem}. To go on: run that command again (it continues), pass --overwrite to move the old "
            "contents aside and start over, or give another --out"
        ) from None


def _threads(args: argparse.Namespace, jobs: int) -> int:
    return args.threads or max(1, (os.cpu_count() or 1) // jobs)


def _child(args: argparse.Namespace, shard: int, batches: list, selection: Selection, streams: list, q) -> None:
    """One ``--jobs`` process: its shard, its progress and its stats through ``q``."""
    try:
        torch.set_num_threads(_threads(args, args.jobs))
        device = dist.resolve_device(args.device)
        if device.type == "cuda":
            device = torch.device("cuda", shard % torch.cuda.device_count())
        store = ShardStore(Path(args.out), shard, streams, args.output_format)
        stats = run_shard(
            load_model(args, device), batches, store, selection, device, lambda n, s: q.put(("progress", n, s))
        )
        q.put(("done", shard, asdict(stats)))
    except BaseException as err:  # noqa: BLE001 - reported by the parent, naming the shard
        q.put(("error", shard, f"{type(err).__name__}: {err}"))
        raise SystemExit(1) from None


class Bar:
    """The progress bar over utterances, or (``--no-progress``) a plain line every tenth of the way."""

    def __init__(self, total: int, progress: bool):
        self.total, self.done, self.audio, self.next_line = total, 0, 0.0, 0.1
        self.bar = tqdm(total=total, desc="extract", unit="utt", disable=not progress)
        self.plain = not progress

    def __call__(self, n: int, seconds: float) -> None:
        self.done += n
        self.audio += seconds
        self.bar.update(n)
        if self.plain and self.total and self.done / self.total >= self.next_line:
            log.info("extract: %d/%d utterances (%.2f h of audio extracted)", self.done, self.total, self.audio / 3600)
            self.next_line = int(self.done / self.total * 10 + 1) / 10

    def close(self) -> None:
        self.bar.close()


def run_jobs(args, batches, selection: Selection, bar: Bar) -> list[ShardStats]:
    ctx = multiprocessing.get_context("spawn")  # no forked torch thread pools
    q = ctx.Queue()
    procs = [
        ctx.Process(
            target=_child, args=(args, s, shard_batches(batches, s, args.jobs), selection, selection.streams, q)
        )
        for s in range(args.jobs)
    ]
    for p in procs:
        p.start()
    stats: dict[int, ShardStats] = {}
    errors: list[str] = []
    while len(stats) + len(errors) < len(procs):
        try:
            msg = q.get(timeout=0.5)
        except queue.Empty:
            dead = [s for s, p in enumerate(procs) if p.exitcode not in (None, 0) and s not in stats]
            if dead and q.empty() and len(errors) < len(dead):
                errors += [f"shard {s}: the process ended with exit code {procs[s].exitcode}" for s in dead]
            continue
        if msg[0] == "progress":
            bar(msg[1], msg[2])
        elif msg[0] == "done":
            stats[msg[1]] = ShardStats(**msg[2])
        else:
            errors.append(f"shard {msg[1]}: {msg[2]}")
    for p in procs:
        p.join()
    if errors:
        raise ExtractionFailed(f"{'; '.join(errors)} (what was written is kept: run the same command to go on)")
    return [stats[s] for s in range(args.jobs)]


def run_args(args: argparse.Namespace) -> str:
    if args.jobs < 1 or args.batch_size < 1:
        raise UsageError(f"--jobs and --batch-size must be at least 1, got {args.jobs} and {args.batch_size}")
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and args.jobs != 1:
        raise UsageError("--jobs N runs N processes itself: under torchrun each rank is one shard, leave --jobs out")
    device = dist.init_distributed(args.device)
    try:
        return _run(args, device, world)
    finally:
        dist.cleanup()  # a rank leaving with its gloo group alive can abort at exit (std::terminate)


def _run(args: argparse.Namespace, device: torch.device, world: int) -> str:
    shards = world if world > 1 else args.jobs
    out = Path(args.out)
    utterances = read_utterances(args)
    if args.output_format == "kaldi":
        check_kaldi_ids([u.uttid for u in utterances])
    upstream = load_model(args, device)
    selection = selection_of(args, num_hidden_states(upstream))
    rate = int(getattr(upstream, "downsample_rate", 160))  # samples per output frame
    progress = not args.no_progress
    opened = dist.on_main_rank(lambda: open_output(out, record(args, selection, shards), args.overwrite))
    try:
        start = time.perf_counter()
        batches = length_batches(utterances, args.batch_size)
        if world > 1:
            mine = shard_batches(batches, dist.rank(), world)
            bar = Bar(sum(map(len, mine)), progress and dist.is_main())
            store = ShardStore(out, dist.rank(), selection.streams, args.output_format)
            stats = [
                ShardStats(**s)
                for s in dist.all_gather_objects(asdict(run_shard(upstream, mine, store, selection, device, bar)))
            ]
        else:
            bar = Bar(len(utterances), progress)
            if args.jobs == 1:
                stats = [
                    run_shard(
                        upstream,
                        batches,
                        ShardStore(out, 0, selection.streams, args.output_format),
                        selection,
                        device,
                        bar,
                    )
                ]
            else:
                del upstream  # each process loads its own
                stats = run_jobs(args, batches, selection, bar)
        bar.close()
        if not dist.is_main():
            return ""
        indexes = write_indexes(out, selection.streams, args.output_format, shards, rate)
        return summary(out, stats, len(indexes), time.perf_counter() - start)
    finally:
        if opened is not None:
            opened.close()


def summary(out: Path, stats: list[ShardStats], index_files: int, seconds: float) -> str:
    audio = sum(s.audio_seconds for s in stats)
    report = {
        "utterances": sum(s.utterances for s in stats),
        "extracted": sum(s.extracted for s in stats),
        "reused": sum(s.reused for s in stats),
        "audio_hours": audio / 3600,
        "seconds": seconds,
        "audio_seconds_per_second": audio / seconds if seconds > 0 else 0.0,
        "files_written": sum(s.files_written for s in stats) + index_files,
        "shards": [asdict(s) for s in stats],
    }
    write_text_atomic(out / SUMMARY, json.dumps(report, indent=1) + "\n")
    return (
        f"extracted {report['extracted']} of {report['utterances']} utterances ({report['audio_hours']:.3f} h of audio) "
        f"in {seconds:.1f} s: {report['audio_seconds_per_second']:.1f} audio-s per s, "
        f"{report['files_written']} files written, {report['reused']} utterances verified from an earlier run -> {out}"
    )
