"""Typed pretraining recipe: model, audio, task, data, runner and optimizer sections.

A recipe is ``config/pretrain/<name>.yaml`` read with ``aalbert.config_layers.load_config`` (so
``-o optimizer.lr=1e-4`` overrides work and typos are errors). ``runner`` and ``optimizer`` share
their names with the downstream tasks' (aalbert.runner_config, s3prl's). ``model`` is the encoder's
``TransformerConfig`` and ``audio`` the ``FeatureConfig`` (s3prl's ``audio`` section);
``model.input_dim`` is always taken from the features, and ``task.target`` picks the
reconstruction target's kind (it replaces ``audio.target.feat_type``, which is written back so that
``config.yaml`` and the checkpoint name the target that was trained).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar, Literal

from aalbert.corpus.readers.audio_files import FORMAT as FILES
from aalbert.corpus.sources import source_specs
from aalbert.corpus.spec import CorpusConfig, CorpusSpec
from aalbert.pretrain import UPSTREAMS
from aalbert.runner_config import OptimizerConfig, RunnerConfig
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.features import FeatureExtractor
from aalbert.upstream.model_config import TransformerConfig


@dataclass
class TaskConfig:
    mask_proportion: float = 0.15  # share of each utterance's valid (stacked) frames masked
    mask_consecutive: int = 7  # span length C in (stacked) frames
    zero_prob: float = 0.8  # per utterance: masked frames zeroed ...
    random_prob: float = 0.1  # ... or replaced by random frames of the batch; the rest left unchanged
    loss_on: Literal["masked", "all"] = "masked"  # L1 on masked frames, or on every valid frame
    target: Literal["linear", "mel"] = "linear"

    def __post_init__(self) -> None:
        if not 0.0 < self.mask_proportion < 1.0:
            raise ValueError(f"mask_proportion must be in (0, 1), got {self.mask_proportion}")
        if self.mask_consecutive < 1:
            raise ValueError(f"mask_consecutive must be at least 1, got {self.mask_consecutive}")
        if self.zero_prob < 0 or self.random_prob < 0 or self.zero_prob + self.random_prob > 1:
            raise ValueError(
                f"zero_prob ({self.zero_prob}) and random_prob ({self.random_prob}) must be "
                "non-negative and sum to at most 1"
            )


@dataclass
class PretrainDataConfig(CorpusConfig):
    """The ``data`` section: the corpus keys every recipe shares (format, subsets, wav_root, scan_cache,
    ...: aalbert.corpus.spec.CorpusConfig), the audio to train on, and how it is cropped and batched."""

    format: str = FILES  # the reader of the plain roots (entries without a FORMAT: prefix)
    # audio folders, files, .txt file lists, or corpora as FORMAT:PATH (kaldi:data/train, timit:/data/TIMIT, ...)
    roots: list[str] = field(default_factory=list)
    # cropping and batching (the batch size and the loader's workers: runner.batch_size, runner.num_workers)
    max_frames: int = 1500  # longer utterances are randomly cropped (unstacked 10 ms frames)
    bucketing: bool = True  # batches of similar lengths (sorted by length), shuffled per epoch

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.max_frames < 1:
            raise ValueError(f"data.max_frames must be positive, got {self.max_frames}")

    def corpus_specs(self) -> list[CorpusSpec]:
        """What to read: one spec per FORMAT:PATH root, then one for the plain roots (aalbert.corpus.sources)."""
        return source_specs(self.roots, self)


@dataclass
class PretrainRunnerConfig(RunnerConfig):
    """The ``runner`` section: the shared loop settings (aalbert.runner_config) plus pretraining's own."""

    total_steps: int = 200000
    gradient_clipping: float = 5.0
    save_minutes: float = 30.0  # a paper-size checkpoint (with optimizer state) is large: less often than downstream
    gradient_accumulate_steps: int = 1  # micro-batches per optimizer step
    save_step: int = 10000  # checkpoint (states-STEP.ckpt) every N steps; one is always written at the end
    max_keep: int = 3  # checkpoints kept; older ones are deleted
    image_step: int = 1000  # masked input / prediction / target figure in TensorBoard; 0 = never
    # bfloat16 autocast for the forward pass: for CUDA, or CPUs with bf16 instructions (AVX512-BF16, AMX);
    # elsewhere emulated: a step took 22x the CPU time of fp32 on an AVX2 EPYC (bench_pretrain.py --bf16)
    bf16: bool = False

    MAY_CHANGE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        *RunnerConfig.MAY_CHANGE_ON_RESUME,
        "save_step",
        "max_keep",
        "image_step",
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.gradient_accumulate_steps < 1 or self.save_step < 1 or self.max_keep < 1:
            raise ValueError(
                f"runner.gradient_accumulate_steps ({self.gradient_accumulate_steps}), runner.save_step "
                f"({self.save_step}) and runner.max_keep ({self.max_keep}) must be >= 1"
            )
        if self.image_step < 0:
            raise ValueError(f"runner.image_step must be >= 0 (0: never), got {self.image_step}")


@dataclass
class PretrainOptimizerConfig(OptimizerConfig):
    """The ``optimizer`` section: AdamW with linear warm-up and decay to zero at ``runner.total_steps``."""

    lr: float = 2e-4
    warmup_proportion: float = 0.07

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 <= self.warmup_proportion < 1.0:
            raise ValueError(f"optimizer.warmup_proportion must be in [0, 1), got {self.warmup_proportion}")


@dataclass
class PretrainConfig:
    model: TransformerConfig = field(default_factory=TransformerConfig)
    audio: FeatureConfig = field(default_factory=FeatureConfig)
    task: TaskConfig = field(default_factory=TaskConfig)
    data: PretrainDataConfig = field(default_factory=PretrainDataConfig)
    runner: PretrainRunnerConfig = field(default_factory=PretrainRunnerConfig)
    optimizer: PretrainOptimizerConfig = field(default_factory=PretrainOptimizerConfig)
    seed: int = 1337

    def __post_init__(self) -> None:
        # task.target sets the target's kind in ``audio`` itself, so that the saved config.yaml and
        # the checkpoint name the target that is trained
        target = self.audio.target if self.audio.target is not None else FeatureSpec()
        self.audio = dataclasses.replace(self.audio, target=dataclasses.replace(target, feat_type=self.task.target))

    def encoder_config(self) -> TransformerConfig:
        """``model`` with ``input_dim`` taken from the features."""
        input_dim = FeatureExtractor(self.audio).input_dim
        return dataclasses.replace(self.model, input_dim=input_dim)


def set_upstream(cfg: PretrainConfig, upstream: str) -> PretrainConfig:
    """``-u``: ``aalbert`` shares one weight group across layers, ``mockingjay`` shares nothing."""
    if upstream not in UPSTREAMS:
        raise ValueError(f"upstream must be one of {', '.join(UPSTREAMS)}, got {upstream!r}")
    groups = 1 if upstream == "aalbert" else None
    return dataclasses.replace(cfg, model=dataclasses.replace(cfg.model, num_hidden_groups=groups))
