"""Typed configuration of a downstream experiment.

A task's ``config.yaml`` holds the ``runner``, ``optimizer``, ``featurizer``, ``data`` and
``model`` sections; the command line fills in the rest (task, upstream, fine-tuning, seed).
``model`` stays a mapping here because its fields belong to the task's expert, which checks
it against its own dataclass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from aalbert.corpus.metadata import MetadataFile
from aalbert.corpus.spec import CorpusConfig, CorpusSpec
from aalbert.runner_config import OptimizerConfig, RunnerConfig


@dataclass
class DownstreamRunnerConfig(RunnerConfig):
    """The ``runner`` section: the shared loop settings (aalbert.runner_config) plus the dev
    evaluations, early stopping and the feature cache. ``states-STEP.ckpt`` (the latest state) is
    written at every dev evaluation and every ``save_minutes``; ``dev-best.ckpt`` at every better one."""

    log_step: int = 100
    eval_step: int = 200  # evaluate on dev every N steps (and at the end)
    eval_batch_size: int = 16
    patience: int | None = None  # stop after this many dev evaluations without a better main metric (None: never)
    # a frozen upstream's hidden states, computed once per utterance instead of every epoch:
    # "none", "memory" (all of them in RAM: small corpora) or a folder (on disk, shared by the
    # tasks that use the same upstream and corpus; one file per utterance and hidden state)
    feature_cache: str = "none"
    # how a disk cache tells that an utterance's audio is the one its features came from:
    # "quick" = path, size, modification time, sha256 of the first and last 64 KiB (misses an
    # edit in the middle of a file that keeps its size and modification time); "full" = also a
    # sha256 of the whole file (every audio file is read at every start: for audio edited in place)
    feature_cache_check: Literal["quick", "full"] = "quick"
    # how a disk cache stores the features (read back as float32; a memory cache keeps float32, so a
    # cached run in memory stays the uncached run exactly): float16 halves the files at 2e-4 relative
    # error of each hidden state (benchmarks/bench_feature_cache.py); float32 for the exact features
    feature_cache_dtype: Literal["float16", "bfloat16", "float32"] = "float16"

    MAY_CHANGE_ON_RESUME: ClassVar[tuple[str, ...]] = (
        *RunnerConfig.MAY_CHANGE_ON_RESUME,
        "eval_step",
        "eval_batch_size",
        "feature_cache",
        "feature_cache_dtype",
    )

    def __post_init__(self):
        super().__post_init__()
        for name in ("eval_step", "eval_batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"runner.{name} must be >= 1, got {getattr(self, name)}")
        if self.patience is not None and self.patience < 1:
            raise ValueError(f"runner.patience must be >= 1 (or null: no early stopping), got {self.patience}")
        if not self.feature_cache:
            raise ValueError('runner.feature_cache must be "none", "memory" or a folder, got an empty string')
        if self.feature_cache_check not in ("quick", "full"):
            raise ValueError(f'runner.feature_cache_check must be "quick" or "full", got {self.feature_cache_check!r}')


@dataclass
class DownstreamOptimizerConfig(OptimizerConfig):
    """The ``optimizer`` section: AdamW over the featurizer and the task's head (and the upstream with -f)."""

    upstream_lr: float = 1e-5  # used only when fine-tuning (-f)


@dataclass
class FeaturizerConfig:
    mode: Literal["weighted_sum", "last", "hidden_states"] = "weighted_sum"
    layer: int | None = None  # with mode hidden_states: which hidden state (0 = input representation)
    layer_norm: bool = False  # normalise each hidden state (no affine) before weighting
    # per-utterance mean / variance normalisation of each hidden state over its valid frames, before
    # weighting (and before layer_norm): on fbank, log-mel with per-utterance CMVN
    cmvn: bool = False


@dataclass
class FrameLabelFiles:
    """One entry of ``data.frame_labels``: where the labels ``frame.NAME`` are read from."""

    format: Literal["textgrid", "rttm", "s3prl"]
    path: str
    tier: str | None = None  # textgrid: the interval tier (default: the label's NAME)
    # the class of frames no label covers: empty TextGrid intervals, RTTM's gaps, the tail a file
    # leaves within data.label_tolerance_s
    fill: str = "none"
    names: str | None = None  # s3prl: the class list, "id name" lines (default: phones.txt... beside path)


@dataclass
class DataConfig(CorpusConfig):
    """The ``data`` section: the corpus keys every recipe shares (format, subsets, wav_root,
    timit_phone_set, label_tolerance_s, scan_cache: aalbert.corpus.spec.CorpusConfig), where the
    corpus lies, its labels and its split (see docs/adding_a_corpus.md)."""

    # corpus folders, Kaldi data dirs or Lhotse manifests (files or folders), pooled, read with one
    # format (e.g. a Kaldi train and test dir); pretraining's data.roots, spelled the same
    roots: list[str] = field(default_factory=lambda: ["data/LibriSpeech"])
    # labels
    alignment: str | None = None  # s3prl alignment file/folder or MFA TextGrid folder; None = ROOT/alignment
    phone_list: str | None = None  # None = found beside an s3prl alignment, or collected from the labels
    textgrid_tier: str = "phones"
    transcripts: str | None = None  # phone sequences for CTC: "UTTID PHONE PHONE ..." lines
    lexicon: str | None = None  # CTC from words (Kaldi text, trans.txt, Lhotse text): "WORD PHONE ..." lines
    fold_phone_marks: bool = True  # AH0 -> AH, T_B -> T in TextGrids, transcripts, lexicons, Lhotse
    silence_phones: list[str] = field(default_factory=lambda: ["sil", "sp", "spn", "SIL", "<sil>", "h#"])
    # metadata from files (no reader plugin needed): a Kaldi utt2FIELD / spk2FIELD path, or a table
    # {path, per: utterance|speaker, key: COLUMN, fields: [COLUMN...]} (CSV, TSV, JSON); paths from the corpus root
    metadata: list[str | MetadataFile] = field(default_factory=list)
    # frame labels of your own, by name (the label frame.NAME): {format: textgrid|rttm|s3prl, path, tier, fill}
    # (aalbert.downstream.data.frame_labels); a task may compute them instead (Expert.frame_labels)
    frame_labels: dict[str, FrameLabelFiles] = field(default_factory=dict)
    # splits
    splits: str | None = None  # folder with train/dev/test.txt; None = ROOT/splits, else split_policy
    split_policy: Literal["task", "per_speaker", "disjoint_speakers"] = "task"  # task: speaker tasks per
    # speaker (each speaker's utterances 8:1:1), phone tasks speaker-disjoint (speakers 8:1:1)
    split_seed: int = 1337
    label_fraction: float = 1.0  # fraction of training utterances used (low-resource curves)

    def __post_init__(self):
        super().__post_init__()
        if not self.roots:
            raise ValueError("data.roots is empty: name the corpus (--data PATH or -o data.roots=[PATH])")
        if not 0.001 <= self.label_fraction <= 1.0:
            raise ValueError(f"data.label_fraction must be in [0.001, 1.0], got {self.label_fraction}")

    def corpus_spec(self) -> CorpusSpec:
        """The corpus to read: ``roots`` with this section's reader and options."""
        return self.spec(list(self.roots))


@dataclass
class ExperimentConfig:
    task: str = ""
    # the labels the task reads, when its config names them (utterance_regression: [utterance.score:numeric]);
    # empty: the expert's own declaration (Expert.labels). The first is what a reusable head predicts.
    labels: list[str] = field(default_factory=list)
    upstream: str = "aalbert"
    upstream_ckpt: str | None = None
    finetune: bool = False
    # the frozen upstream's inference precision (aalbert.upstream.precision): int8 (CPU), bf16, fp16 (CUDA)
    precision: Literal["fp32", "bf16", "fp16", "int8"] = "fp32"
    init_ckpt: str | None = None  # s3prl's -i: a downstream checkpoint whose trained weights a new run starts from
    seed: int = 1337
    runner: DownstreamRunnerConfig = field(default_factory=DownstreamRunnerConfig)
    optimizer: DownstreamOptimizerConfig = field(default_factory=DownstreamOptimizerConfig)
    featurizer: FeaturizerConfig = field(default_factory=FeaturizerConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if self.finetune and self.precision == "int8":
            raise ValueError("precision int8 is for a frozen upstream: quantized layers cannot be fine-tuned (-f)")
