"""results.json and the layer-weight chart of an experiment folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from torch import nn

from aalbert import distributed as dist
from aalbert.atomic import write_text_atomic
from aalbert.config import to_dict
from aalbert.upstream.sizes import UpstreamSizes

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


def plot_layer_weights(weights: list[float], path: str | Path, title: str = "") -> Path:
    """Bar chart of the featurizer's weight per hidden state (0 = input representation)."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers; must precede pyplot
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(3.0, 0.5 * len(weights) + 1.5), 3.0))
    ax.bar(range(len(weights)), weights, color="tab:blue")
    ax.set_xticks(range(len(weights)))
    ax.set_xlabel("hidden state (0 = input representation)")
    ax.set_ylabel("softmax weight")
    ax.set_ylim(0, max(1e-6, max(weights)) * 1.15)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return Path(path)


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
) -> dict:
    """What results.json holds after a test evaluation (``previous``: what it held before)."""
    sizes = UpstreamSizes.of(upstream)
    return {
        **previous,
        "task": config.task,
        "task_source": task.source,
        "task_package": {"name": task.package, "version": task.version},
        "main_metric": type(model.expert).main_metric,
        "higher_is_better": type(model.expert).higher_is_better,
        "metrics": {"dev_best": {**(state.best_dev or {}), "step": state.best_step}, "test": test},
        "upstream": {
            "name": config.upstream,
            "ckpt": config.upstream_ckpt,
            "finetune": config.finetune,
            "num_parameters": count_parameters(upstream),
            "hidden_size": sizes.hidden_size,
            "num_layers": sizes.num_layers,
            "downsample_rate": sizes.downsample_rate,
        },
        "downstream_trainable_parameters": count_parameters(model.featurizer, True)
        + count_parameters(model.expert, True),
        "featurizer": model.featurizer.describe(),
        "data": {
            "utterances": {k: len(v) for k, v in corpus.splits.items()},
            "speakers": len(corpus.speakers),
            "phones": len(corpus.phone_names or []),
            "skipped_no_alignment": corpus.skipped,
            # files that did not decode cleanly, left out with data.bad_audio: skip
            "bad_audio": {"count": len(corpus.bad_audio), "files": corpus.bad_audio},
        },
        "steps": state.step,
        "world_size": dist.world_size(),
        "config": to_dict(config),
    }
