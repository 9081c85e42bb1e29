"""Per-layer probing: what each hidden state of a frozen upstream knows about phones or speakers.

    python run_probe.py -u aalbert_local -k CKPT --task phone --probes linear,1hidden,2hidden \\
        --data data/LibriSpeech --out result/probe

Data, labels and splits come from the downstream package exactly as a downstream task reads
them (any corpus reader: ``--format librispeech|timit|kaldi|lhotse``; split lists, or the
task's seeded 8:1:1 split: speaker-disjoint for phones, per speaker for speakers). The upstream runs once; every hidden state (0 = input representation .. L) is cached
(``--cache-dir`` for sets too big for memory) and each probe is trained on each of them.
Writes ``probe_results.csv`` / ``probe_results.json`` (one row per layer x probe: dev and
test accuracy) and ``probe_accuracy.png`` (test accuracy against layer, one line per probe).
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from aalbert.atomic import write_text_atomic
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import Corpus, load_corpus
from aalbert.downstream.expert import Expert, TaskContext
from aalbert.downstream.feature_cache import FeatureCache, cache_manifest, fill_cache
from aalbert.downstream.frame_classifier import FrameClassifierExpert
from aalbert.downstream.speaker import SpeakerUtteranceExpert
from aalbert.errors import BadInputError, report_error
from aalbert.experiment import experiment_dir

from .probe import PROBES, ProbeTrainConfig, SplitFeatures, probe_depth, train_probe

log = logging.getLogger(__name__)
CSV_NAME = "probe_results.csv"
JSON_NAME = "probe_results.json"
PNG_NAME = "probe_accuracy.png"
PROGRESS_NAME = "probe_progress.json"  # finished probes, kept as they finish (an interrupted run resumes)
TASKS: dict[str, type[Expert]] = {"phone": FrameClassifierExpert, "speaker": SpeakerUtteranceExpert}


@dataclass
class ProbingConfig:
    upstream: str = "aalbert"
    ckpt: str | None = None
    task: Literal["phone", "speaker"] = "phone"
    probes: list[str] = field(default_factory=lambda: list(PROBES))
    layers: list[int] | None = None       # hidden-state indices to probe; None = all
    data: DataConfig = field(default_factory=DataConfig)
    train: ProbeTrainConfig = field(default_factory=ProbeTrainConfig)
    cache_dir: str | None = None          # None = keep features in memory
    extract_batch_size: int = 8
    device: str = "auto"

    def __post_init__(self):
        if self.task not in TASKS:
            raise BadInputError(f"unknown probing task {self.task!r}; choose from {', '.join(TASKS)}")
        if not self.probes:
            raise BadInputError("no probes given")
        for name in self.probes:
            probe_depth(name)
        if len(set(self.probes)) != len(self.probes):
            raise BadInputError(f"probes listed twice: {self.probes}")
        if self.extract_batch_size < 1:
            raise BadInputError(f"extract_batch_size must be >= 1, got {self.extract_batch_size}")


def select_layers(requested: list[int] | None, num_hidden_states: int) -> list[int]:
    if requested is None:
        return list(range(num_hidden_states))
    bad = [i for i in requested if not 0 <= i < num_hidden_states]
    if bad:
        raise BadInputError(f"layer(s) {bad} out of range: this upstream has hidden states 0..{num_hidden_states - 1}")
    return sorted(set(requested))


def run(config: ProbingConfig, out_dir: str | Path, upstream: nn.Module | None = None,
        progress: bool = True) -> list[dict]:
    """Probe every (selected) hidden state with every probe; write the table and the plot."""
    from .attention import resolve_device

    device = resolve_device(config.device)
    corpus = load_corpus(config.data, TASKS[config.task].task_data())
    if upstream is None:
        from aalbert.hub import load_upstream  # late: the hub imports every upstream family

        # seeded: a randomly initialised hub model is then the same model every run, so a disk
        # cache made by an earlier run still holds *its* features
        torch.manual_seed(config.train.seed)
        upstream = load_upstream(config.upstream, config.ckpt)
    num_states = upstream.num_layers + 1
    layers = select_layers(config.layers, num_states)
    downsample_rate = upstream.downsample_rate
    info = {"name": config.upstream, "ckpt": config.ckpt, "num_layers": upstream.num_layers,
            "hidden_size": upstream.hidden_size, "downsample_rate": downsample_rate}

    # speaker probes see only the utterance mean, so cache just that (identical to pooling later)
    pool = "mean" if config.task == "speaker" else "none"
    cache = FeatureCache(num_states, config.cache_dir)
    everything = [u for split in ("train", "dev", "test") for u in corpus.splits[split]]
    # a randomly initialised hub model is built from the training seed (see above)
    manifest = cache_manifest(config.upstream, config.ckpt, config.train.seed, pool)
    fill_cache(upstream, everything, cache, manifest, pool, config.extract_batch_size, device, progress)
    del upstream  # only cached features are needed from here on
    if device.type == "cuda":
        torch.cuda.empty_cache()

    expert_class = TASKS[config.task]
    progress_file = ProbeProgress(Path(out_dir) / PROGRESS_NAME, config, upstream_fingerprint(config))
    rows = []
    for layer in layers:
        splits = None
        for name in config.probes:
            row = progress_file.done(layer, name)
            if row is None:
                if splits is None:
                    splits = {s: SplitFeatures(corpus.splits[s], cache.layer(layer, [u.uttid for u in corpus.splits[s]]))
                              for s in ("train", "dev", "test")}
                context = TaskContext(splits["train"].features[0].shape[-1], downsample_rate, corpus)
                result = train_probe(expert_class, context, probe_depth(name), splits, config.train, device,
                                     desc=f"layer {layer} {name}", progress=progress)
                metric = expert_class.main_metric
                row = {"layer": layer, "probe": name, "hidden_layers": probe_depth(name),
                       f"dev_{metric}": result.dev[metric], f"test_{metric}": result.test[metric],
                       "best_epoch": result.best_epoch, "epochs_run": result.epochs_run, "steps": result.steps}
                progress_file.add(row)  # kept at once: an interrupted run redoes only unfinished probes
                log.info("layer %d %s: dev %s %.4f, test %.4f", layer, name, metric, result.dev[metric],
                         result.test[metric])
            else:
                log.info("layer %d %s: done in an earlier run (%s)", layer, name, progress_file.path)
            rows.append(row)
    write_outputs(rows, config, corpus, info, out_dir)
    return rows


def upstream_label(name: str, ckpt: str | None, seed: int) -> str:
    from aalbert.hub import upstream_label as label  # late: the hub imports every upstream family

    return label(name, ckpt, seed)


def upstream_fingerprint(config: ProbingConfig) -> dict:
    from aalbert.hub import upstream_identity

    try:
        return upstream_identity(config.upstream, config.ckpt)
    except (OSError, ValueError):
        return {"name": config.upstream, "ckpt": config.ckpt}


class ProbeProgress:
    """Finished (layer, probe) results of one probing setup, written as each probe finishes.

    Rows are reused only by a run with the same settings (apart from which layers and probes
    it asks for) and the same upstream (checkpoint content): each probe is seeded on its own,
    so a finished row is what a fresh run would compute.
    """

    def __init__(self, path: Path, config: ProbingConfig, upstream: dict):
        settings = {k: v for k, v in asdict(config).items() if k not in ("layers", "probes", "device",
                                                                         "extract_batch_size", "cache_dir")}
        self.path, self.key = path, json.loads(json.dumps({"settings": settings, "upstream": upstream}, default=str))
        self.rows: list[dict] = []
        if path.is_file():
            try:
                saved = json.loads(path.read_text())
            except ValueError:
                saved = {}
            if saved.get("key") == self.key:
                self.rows = list(saved.get("rows", []))

    def done(self, layer: int, probe: str) -> dict | None:
        return next((r for r in self.rows if r["layer"] == layer and r["probe"] == probe), None)

    def add(self, row: dict) -> None:
        self.rows.append(row)
        write_text_atomic(self.path, json.dumps({"key": self.key, "rows": self.rows}, indent=1) + "\n")


def write_outputs(rows: list[dict], config: ProbingConfig, corpus: Corpus, upstream_info: dict,
                  out_dir: str | Path) -> tuple[Path, Path, Path]:
    from .plots import plot_probe_curves

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / CSV_NAME
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    metric = TASKS[config.task].main_metric
    payload = {
        "task": config.task,
        "metric": metric,
        "upstream": upstream_info,
        "rows": rows,
        "data": {"utterances": {k: len(v) for k, v in corpus.splits.items()}, "speakers": len(corpus.speakers),
                 "phones": len(corpus.phone_names or []), "skipped_no_alignment": corpus.skipped},
        "settings": asdict(config),
    }
    json_path = out_dir / JSON_NAME
    json_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    layers = sorted({r["layer"] for r in rows})
    curves = {name: [next(r[f"test_{metric}"] for r in rows if r["layer"] == layer and r["probe"] == name)
                     for layer in layers] for name in config.probes}
    png_path = plot_probe_curves(curves, layers, out_dir / PNG_NAME, ylabel=f"test {metric}",
                                 title=f"{config.task} probing: {upstream_label(config.upstream, config.ckpt, config.train.seed)}")
    return csv_path, json_path, png_path


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="run_probe.py", description=__doc__.split("\n\n")[0])
    p.add_argument("-u", "--upstream", default="aalbert", help="hub name (python -m aalbert.hub list)")
    p.add_argument("-k", "--upstream-ckpt", "--ckpt", dest="ckpt", default=None,
                   help="upstream checkpoint (for *_local upstreams)")
    p.add_argument("--task", choices=sorted(TASKS), required=True)
    p.add_argument("--probes", default=",".join(PROBES), help=f"comma-separated, from {', '.join(PROBES)}")
    p.add_argument("--layers", default=None, help="comma-separated hidden-state indices (default: all)")
    d = p.add_argument_group("data (read as the downstream package reads it)")
    d.add_argument("--data", required=True, help="corpus root (folder, Kaldi data dir or Lhotse manifest)")
    d.add_argument("--format", default="librispeech", help="corpus reader: librispeech, timit, kaldi, lhotse, ...")
    d.add_argument("--split-policy", default="task", choices=["task", "per_speaker", "disjoint_speakers"],
                   help="default split without split lists (task: phones speaker-disjoint, speakers per speaker)")
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
    p.add_argument("--extract-batch-size", type=int, default=8)
    p.add_argument("--device", default="auto")
    p.add_argument("-n", "--expname", help="experiment name: writes to result/probe/NAME (default: result/probe)")
    p.add_argument("-p", "--expdir", "--out", dest="out", help="output folder (instead of -n)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--debug", action="store_true", help="show the traceback of every error")
    return p


def _csv(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


def config_from_args(args: argparse.Namespace) -> ProbingConfig:
    layers = _csv(args.layers)
    try:
        layer_ids = None if layers is None else [int(v) for v in layers]
    except ValueError as err:
        raise BadInputError(f"--layers must be comma-separated integers, got {args.layers!r}") from err
    data = DataConfig(format=args.format, root=args.data, subsets=_csv(args.subsets) or [], alignment=args.alignment,
                      phone_list=args.phone_list, splits=args.splits, split_seed=args.split_seed,
                      split_policy=args.split_policy)
    train = ProbeTrainConfig(epochs=args.epochs, max_steps=args.max_steps, batch_size=args.batch_size, lr=args.lr,
                             weight_decay=args.weight_decay, patience=args.patience, hidden_size=args.hidden_size,
                             dropout=args.dropout, seed=args.seed)
    return ProbingConfig(upstream=args.upstream, ckpt=args.ckpt, task=args.task, probes=_csv(args.probes) or [],
                         layers=layer_ids, data=data, train=train, cache_dir=args.cache_dir,
                         extract_batch_size=args.extract_batch_size, device=args.device)


def output_dir(args: argparse.Namespace, base: str) -> Path:
    """-p/--expdir as given, else BASE/NAME for -n (kept inside BASE), else BASE."""
    if args.out is None and args.expname is None:
        return Path(base)
    return experiment_dir(base, args.expname, args.out)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        config = config_from_args(args)
        run(config, output_dir(args, "result/probe"), progress=not args.no_progress)
    except Exception as err:  # noqa: BLE001 - user errors are one line (exit 2), anything else a traceback
        return report_error(err, "run_probe.py", args.debug)
    print(f"wrote {Path(args.out) / CSV_NAME}, {JSON_NAME} and {PNG_NAME}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
