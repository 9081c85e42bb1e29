"""How differently the layers attend: the layer x layer attention JSD matrix of an upstream.

    python run_attention.py -u aalbert_local -k CKPT --data DIR --num-utterances 50 -n NAME

The upstream runs on ``N`` utterances of ``--data`` spread over its speakers (a seeded sample,
utterance_sample.py: the same files for the same seed) in small batches; each batch's attention
maps (L x (B, heads, T, T)) are reduced to an L x L sum right away and dropped, so memory holds
one batch's maps, never the whole set. ``--max-seconds`` crops long files, since the maps grow with the square of length.
Writes ``attention_jsd.json`` (matrix, layer labels, settings, upstream) and
``attention_jsd.png`` (the annotated heatmap) to ``--out``, and both to TensorBoard in ``--out``/tb:
the heatmap as an image and each layer's row of the matrix as a curve (``jsd/layer_II`` against the
other layer's number).
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm

from aalbert import command_flags as flags
from aalbert.audio import SAMPLE_RATE
from aalbert.corpus.sources import describe, utterances_from_sources
from aalbert.corpus.utterance import Utterance, load_utterance_audio
from aalbert.distributed import resolve_device
from aalbert.errors import BadInputError, MissingFileError, UsageError
from aalbert.training_log import TENSORBOARD_DIR, summary_writer

from .attention_command import build_parser, main
from .command import checkpoint_words, output_dir, owned_folder
from .jsd import LN2, JSDAccumulator
from .utterance_sample import describe_sample, speaker_of, spread_over_speakers

# build_parser and main (the command, torch-free) re-exported: run_attention.py and tests import them from here
__all__ = [
    "AttentionConfig",
    "AttentionJSD",
    "attention_jsd",
    "build_parser",
    "main",
    "run",
    "run_args",
    "select_files",
]
log = logging.getLogger(__name__)
JSON_NAME = "attention_jsd.json"
PNG_NAME = "attention_jsd.png"


@dataclass
class AttentionConfig:
    upstream: str = "aalbert"
    ckpt: str | None = None
    data: list[str] = field(default_factory=list)  # folders, audio files, .txt file lists or FORMAT:PATH corpora
    num_utterances: int = 20
    batch_size: int = 1  # 1 = no padding at all; larger pads to the longest
    max_seconds: float | None = None  # crop each wave to its first N seconds
    device: str = "auto"  # auto = cuda when available
    seed: int = 1337  # which utterances are sampled, and a random (non-checkpoint) upstream's weights

    def __post_init__(self):
        if self.num_utterances < 1:
            raise BadInputError(f"number of utterances must be >= 1, got {self.num_utterances}")
        if self.batch_size < 1:
            raise BadInputError(f"batch size must be >= 1, got {self.batch_size}")
        if self.max_seconds is not None and self.max_seconds <= 0:
            raise BadInputError(f"max_seconds must be positive, got {self.max_seconds}")


@dataclass
class AttentionJSD:
    matrix: torch.Tensor  # (L, L) float64, nats
    layers: list[str]  # "layer 1" .. "layer L" (hidden state i comes out of layer i)
    utterances: int
    queries: int
    files: list[str]
    speakers: list[str] = field(default_factory=list)  # each file's speaker (utterance_sample.speaker_of)


def select_files(data: list[str], num_utterances: int, seed: int = 1337) -> list[Utterance]:
    """``num_utterances`` utterances of ``data`` spread over its speakers, drawn with ``seed``."""
    if not data:
        raise UsageError("no data given: pass --data with a folder, audio files, a file list or FORMAT:PATH")
    utterances = utterances_from_sources(data)
    if not utterances:
        raise MissingFileError(f"no .flac or .wav files under {', '.join(data)}")
    return spread_over_speakers(utterances, num_utterances, seed)


@torch.no_grad()
def attention_jsd(
    upstream: nn.Module,
    files: Sequence[Path | Utterance],
    batch_size: int = 1,
    max_seconds: float | None = None,
    device: torch.device | str = "cpu",
    progress: bool = True,
) -> AttentionJSD:
    """Run ``upstream`` (eval mode: dropout would perturb the maps) over ``files`` and pool the JSD."""
    num_layers = int(getattr(upstream, "num_layers", 0))
    if num_layers < 1:
        raise BadInputError(
            f"upstream {getattr(upstream, 'name', type(upstream).__name__)} has no attention layers "
            f"(num_layers = {num_layers})"
        )
    upstream = upstream.to(device).eval()
    crop = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
    acc = JSDAccumulator(num_layers)
    batches = [files[i : i + batch_size] for i in range(0, len(files), batch_size)]
    for batch in tqdm(batches, desc="attention", unit="batch", disable=not progress):
        wavs = [_load(p)[:crop].to(device) for p in batch]
        out = upstream(wavs, output_attentions=True)
        attentions = out.get("attentions")
        if not attentions:
            raise BadInputError("the upstream returned no attention maps for output_attentions=True")
        acc.add_batch(attentions, out["lengths"])
        del out, attentions  # the maps are the big part: free them before the next batch
    return AttentionJSD(
        acc.matrix(),
        [f"layer {i}" for i in range(1, num_layers + 1)],
        acc.utterances,
        acc.queries,
        [describe(p) if isinstance(p, Utterance) else str(p) for p in files],
        [speaker_of(p) for p in files],
    )


def _load(item: Path | Utterance):
    return load_utterance_audio(item if isinstance(item, Utterance) else Utterance(Path(item).stem, Path(item), ""))


def write_outputs(
    result: AttentionJSD, config: AttentionConfig, out_dir: str | Path, upstream_info: dict | None = None
) -> tuple[Path, Path]:
    from .figures import jsd_title, plot_jsd_heatmap  # matplotlib only when writing

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    label = plot_label(config)
    sample = describe_sample(result.speakers, config.seed)
    payload = {
        "upstream": {"name": config.upstream, "ckpt": config.ckpt, "label": label, **(upstream_info or {})},
        "layers": result.layers,
        "matrix": result.matrix.tolist(),
        "log_base": "e",
        "units": "nats",
        "upper_bound": LN2,
        "definition": "per head, JSD between the two layers' attention rows of the same query; mean over heads "
        "and valid queries (padding excluded as queries and keys); utterances weighted by "
        "their number of valid queries",
        "utterances": result.utterances,
        "queries": result.queries,
        "settings": asdict(config),
        "files": result.files,
        "sample": sample,  # how the files were picked, and each one's speaker
    }
    json_path = out_dir / JSON_NAME
    json_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    png_path = plot_jsd_heatmap(
        result.matrix.tolist(),
        result.layers,
        out_dir / PNG_NAME,
        title=jsd_title(label, result.utterances, sample["speakers"]),
    )
    log_to_tensorboard(result, png_path, out_dir)
    return json_path, png_path


def log_to_tensorboard(result: AttentionJSD, png_path: Path, out_dir: Path) -> Path:
    """The heatmap as an image and row i of the matrix as the curve ``jsd/layer_i`` (its step: the other
    layer's number), in ``out_dir``/tb; a run writing the folder again replaces them, never adds."""
    import matplotlib.image  # late: only when writing

    logdir = out_dir / TENSORBOARD_DIR
    shutil.rmtree(logdir, ignore_errors=True)
    writer = summary_writer(logdir)
    writer.add_image("attention_jsd", matplotlib.image.imread(png_path)[..., :3], 0, dataformats="HWC")
    for i, row in enumerate(result.matrix.tolist(), start=1):
        for j, value in enumerate(row, start=1):
            writer.add_scalar(f"jsd/layer_{i:02d}", value, j)
    writer.close()
    return logdir


def load_inputs(config: AttentionConfig) -> tuple[list[Utterance], nn.Module]:
    """The utterances and the upstream ``config`` names (errors here come before anything is written)."""
    from aalbert.hub import load_upstream  # late: the hub imports every upstream family

    files = select_files(config.data, config.num_utterances, config.seed)
    torch.manual_seed(config.seed)  # randomly initialised hub models: the same model every run
    return files, load_upstream(config.upstream, config.ckpt)


def run(
    config: AttentionConfig,
    out_dir: str | Path,
    progress: bool = True,
    inputs: tuple[list[Utterance], nn.Module] | None = None,
) -> tuple[Path, Path]:
    """The JSD of ``config``'s upstream on its files, written to ``out_dir``; ``inputs``: what
    :func:`load_inputs` gave, when the caller loaded them already."""
    files, upstream = inputs if inputs is not None else load_inputs(config)
    device = resolve_device(config.device)
    log.info("attention JSD of %s on %d file(s), device %s", config.upstream, len(files), device)
    result = attention_jsd(upstream, files, config.batch_size, config.max_seconds, device, progress)
    info = {
        "num_layers": upstream.num_layers,
        "hidden_size": upstream.hidden_size,
        "num_attention_heads": getattr(getattr(upstream, "encoder_config", None), "num_attention_heads", None),
    }
    return write_outputs(result, config, out_dir, info)


def run_args(args: argparse.Namespace) -> str:
    """``aalbert attention`` once its flags are parsed: the run, in its own folder; what it wrote."""
    from aalbert.hub import upstream_identity  # late: the hub imports every upstream family

    config = flags.from_flags(AttentionConfig, args, ckpt=args.upstream_ckpt, data=list(args.data))
    out = output_dir(args, "result/attention", config.upstream, checkpoint_words(config.ckpt))
    inputs = load_inputs(config)
    settings = {k: v for k, v in asdict(config).items() if k != "device"}
    with owned_folder(out, "attention", settings, upstream_identity(config.upstream, config.ckpt), args.overwrite):
        json_path, png_path = run(config, out, progress=not args.no_progress, inputs=inputs)
    return f"wrote {json_path} and {png_path}"


def plot_label(config: AttentionConfig) -> str:
    from aalbert.hub import upstream_label  # late: the hub imports every upstream family

    return upstream_label(config.upstream, config.ckpt, config.seed)
