"""results.json of an experiment folder (its chart: layer_weights_figure.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from aalbert import distributed as dist
from aalbert.atomic import write_text_atomic
from aalbert.config import to_dict
from aalbert.upstream.sizes import UpstreamSizes

from .chance import chance_levels

if TYPE_CHECKING:
    from aalbert.training_loop import TrainingState

    from .config import ExperimentConfig
    from .data.corpus import Corpus
    from .model import DownstreamModel
    from .registry import Task

RESULTS = "results.json"
LAYER_WEIGHTS_PNG = "layer_weights.png"


def read_results(expdir: str | Path) -> dict:
    path = Path(expdir) / RESULTS
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def write_results(expdir: str | Path, results: dict) -> Path:
    return write_text_atomic(Path(expdir) / RESULTS, json.dumps(results, indent=2) + "\n")


def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only)


def results_record(
    config: ExperimentConfig,
    task: Task,
    upstream: nn.Module,
    model: DownstreamModel,
    corpus: Corpus,
    state: TrainingState,
    test: dict,
    previous: dict,
    upstream_label: str = "",
) -> dict:
    """What results.json holds after a test evaluation (``previous``: what it held before;
    ``upstream_label``: the upstream in words, as figures name it)."""
    sizes = UpstreamSizes.of(upstream)
    return {
        **previous,
        "task": config.task,
        "task_source": task.source,
        "task_package": {"name": task.package, "version": task.version},
        "main_metric": model.expert.main_metric,
        "higher_is_better": model.expert.higher_is_better,
        "metrics": {"dev_best": {**(state.best_dev or {}), "step": state.best_step}, "test": test},
        "upstream": {
            "name": config.upstream,
            "ckpt": config.upstream_ckpt,
            "finetune": config.finetune,
            "label": upstream_label,
            "num_parameters": count_parameters(upstream),
            "hidden_size": sizes.hidden_size,
            "num_layers": sizes.num_layers,
            "downsample_rate": sizes.downsample_rate,
        },
        "downstream_trainable_parameters": count_parameters(model.featurizer, True)
        + count_parameters(model.expert, True),
        "featurizer": model.featurizer.describe(),
        # what always answering train's most frequent class scores (the figures' chance line)
        # (a head that reads no label, speaker verification over batch.speakers, has none)
        "chance": chance_levels(corpus, model.expert.labels[0]) if model.expert.labels else None,
        "data": {
            "utterances": {k: len(v) for k, v in corpus.splits.items()},
            "speakers": len(corpus.speakers),
            "phones": len(corpus.phone_names or []),
            "skipped_no_alignment": corpus.skipped,
            # per split: label -> utterances left out for lacking it (metadata, transcripts, frame labels)
            "skipped_no_label": corpus.skipped_labels,
            # files that did not decode cleanly, left out with data.bad_audio: skip
            "bad_audio": {"count": len(corpus.bad_audio), "files": corpus.bad_audio},
        },
        "steps": state.step,
        "world_size": dist.world_size(),
        "config": to_dict(config),
    }
