"""Which corpus to read and how: the reader's name (``format``), its options and the roots."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from aalbert.config import from_dict
from aalbert.errors import BadInputError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from .frames import MAX_GAP_TOLERANCE_S, seconds_to_samples

T = TypeVar("T", bound="DataclassInstance")
_SPEC = re.compile(r"^([a-z][a-z0-9_]*):(.+)$")


@dataclass
class CorpusConfig:
    """How a corpus is read: the reader (``format``) and its options.

    The corpus keys of a recipe's ``data`` section, the same for pretraining and downstream
    (``aalbert.pretrain.config.PretrainDataConfig`` and ``aalbert.downstream.config.DataConfig``
    extend it with where their audio lies and their own keys); a :class:`CorpusSpec` adds the
    roots a reader reads.
    """

    # a reader (aalbert.corpus.registry): librispeech, timit, kaldi, lhotse, files (plain audio
    # folders, audio files or .txt lists of them) or a plugin's
    format: str = "librispeech"
    subsets: list[str] = field(default_factory=list, kw_only=True)  # LibriSpeech subsets under each root; empty = all
    wav_root: str | None = field(default=None, kw_only=True)  # Kaldi: folder relative wav.scp paths start from
    timit_phone_set: int = field(default=39, kw_only=True)  # TIMIT: 61 phones folded to 39 (Lee & Hon) or 48
    # how far timed labels may fall short of (or run past) the audio before it is an error;
    # 0.5 s covers real TIMIT files whose final h# stops 0.18 s early
    label_tolerance_s: float = field(default=0.5, kw_only=True)
    # how far one timed label may start from where the one before it ended (a gap or an
    # overlap) before it is an error: at most one frame (0.01 s); the first label starts at 0
    label_gap_tolerance_s: float = field(default=0.01, kw_only=True)
    # keep audio lengths per corpus in $AALBERT_CACHE_DIR (~/.cache/aalbert): aalbert.corpus.scan_cache
    scan_cache: bool = field(default=True, kw_only=True)
    # every audio file is decoded once before the first step (aalbert.corpus.audio_check): files that
    # do not decode cleanly are an error listing them all ("error"), or are left out ("skip", counted
    # in results.json and the pretraining checkpoint)
    bad_audio: Literal["error", "skip"] = field(default="error", kw_only=True)
    # a file with several channels is an error unless this says which wave to use: "mean" or an index
    channel: Literal["mean"] | int | None = field(default=None, kw_only=True)
    # processes decoding the audio at the first scan; null = min(4, CPUs)
    audio_check_workers: int | None = field(default=None, kw_only=True)
    # the reader's own options (`-o data.options.KEY=VALUE`), checked against its `Options` dataclass
    # (`-o data.options=null` clears the options a task's config gave, e.g. for another corpus's reader)
    options: dict[str, Any] | None = field(default_factory=dict, kw_only=True)

    def __post_init__(self):
        if self.options is None:
            self.options = {}
        if self.timit_phone_set not in (39, 48):
            raise BadInputError(f"timit_phone_set must be 39 or 48, got {self.timit_phone_set}")
        if self.label_tolerance_s < 0:
            raise BadInputError(f"label_tolerance_s must be >= 0, got {self.label_tolerance_s}")
        if self.bad_audio not in ("error", "skip"):
            raise BadInputError(f"bad_audio must be error or skip, got {self.bad_audio!r}")
        if not (self.channel is None or self.channel == "mean" or (type(self.channel) is int and self.channel >= 0)):
            raise BadInputError(f"channel must be mean, a channel index (0, 1, ...) or null, got {self.channel!r}")
        if self.audio_check_workers is not None and self.audio_check_workers < 1:
            raise BadInputError(f"audio_check_workers must be >= 1 (or null), got {self.audio_check_workers}")
        if not 0 <= self.label_gap_tolerance_s <= MAX_GAP_TOLERANCE_S:
            raise BadInputError(
                f"label_gap_tolerance_s must be between 0 and {MAX_GAP_TOLERANCE_S:g} (one frame), "
                f"got {self.label_gap_tolerance_s}"
            )

    @property
    def gap_tolerance_samples(self) -> int:
        return seconds_to_samples(self.label_gap_tolerance_s)

    @property
    def tolerance_samples(self) -> int:
        return seconds_to_samples(self.label_tolerance_s)

    def spec(self, roots: list[str], format: str | None = None) -> CorpusSpec:
        """``roots`` read with these options (and this ``format`` unless another is given)."""
        return CorpusSpec(
            format or self.format,
            list(roots),
            subsets=list(self.subsets),
            wav_root=self.wav_root,
            timit_phone_set=self.timit_phone_set,
            label_tolerance_s=self.label_tolerance_s,
            bad_audio=self.bad_audio,
            channel=self.channel,
            audio_check_workers=self.audio_check_workers,
            label_gap_tolerance_s=self.label_gap_tolerance_s,
            scan_cache=self.scan_cache,
            options=dict(self.options or {}),
        )

    def reader_options(self, options_class: type[T]) -> T:
        """``options`` as the reader's ``Options`` dataclass; an unknown key or a wrong type is a
        ConfigError naming the reader (the command checks them earlier, naming where they were given)."""
        return from_dict(
            options_class, self.options, where=f"data.options of the {self.format} reader", key="data.options"
        )


@dataclass
class CorpusSpec(CorpusConfig):
    """What a reader reads: a :class:`CorpusConfig` and its roots."""

    roots: list[str] = field(default_factory=list)  # several: pooled (e.g. Kaldi train + test)

    def __post_init__(self):
        super().__post_init__()
        if isinstance(self.roots, (str, Path)):
            self.roots = [str(self.roots)]


def parse_corpus_spec(entry: str, known_formats: list[str]) -> CorpusSpec | None:
    """``"kaldi:data/train"`` -> a spec; a plain path (or an unknown prefix) -> None."""
    match = _SPEC.match(entry)
    if not match or match.group(1) not in known_formats:
        return None
    return CorpusSpec(format=match.group(1), roots=[match.group(2)])
