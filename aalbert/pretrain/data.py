"""Pretraining data: audio discovery, length-bucketed batch order, seeded random crops.

Everything random here is a pure function of ``(seed, epoch, ...)``: the batch order of an
epoch and each utterance's crop offset. Resuming at ``(epoch, position)`` therefore replays
exactly the batches a straight run would have seen, with no RNG state to carry, and every
DDP rank derives the same order and takes its own share of it.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from aalbert.audio import SAMPLE_RATE, AudioError, find_audio_files, load_audio
from aalbert.corpus.registry import available_formats, read_corpus
from aalbert.corpus.scan_cache import AudioInfoCache
from aalbert.corpus.spec import parse_corpus_spec

log = logging.getLogger(__name__)


@dataclass
class Corpus:
    paths: list[Path]
    num_samples: list[int]
    skipped: list[str]  # "path: problem" for each file left out
    # (start, samples) inside the file for utterances of a corpus spec (Kaldi segments, Lhotse
    # cuts); None = the whole file
    spans: list[tuple[int, int] | None] = field(default_factory=list)

    def span(self, index: int) -> tuple[int, int | None]:
        span = self.spans[index] if self.spans else None
        return span if span is not None else (0, None)


def scan_corpus(roots: str | Path | Iterable[str | Path], min_samples: int = 1) -> Corpus:
    """Every usable utterance of ``roots`` with its length.

    A root is a folder, an audio file, a ``.txt`` file list, or a corpus spec ``FORMAT:PATH``
    (``kaldi:data/train``, ``timit:/data/TIMIT``, ...) read by that corpus reader, which
    validates it up front. Unreadable, empty, off-rate or too-short plain files are skipped with
    a warning (one per file) and listed in ``Corpus.skipped``; no usable file at all is an error.
    """
    if isinstance(roots, (str, Path)):
        roots = [roots]
    formats = available_formats()
    plain = [r for r in roots if parse_corpus_spec(str(r), formats) is None]
    specs = [parse_corpus_spec(str(r), formats) for r in roots if parse_corpus_spec(str(r), formats) is not None]
    paths, lengths, skipped, spans = [], [], [], []
    for spec in specs:
        for utt in sorted(read_corpus(spec).utterances, key=lambda u: u.uttid):
            if utt.num_samples < min_samples:
                skipped.append(f"{utt.source}: utterance {utt.uttid} has {utt.num_samples} samples, shorter than "
                               f"the {min_samples} one frame needs")
                warnings.warn(f"skipping {skipped[-1]}", stacklevel=2)
                continue
            paths.append(utt.path)
            lengths.append(utt.num_samples)
            spans.append((utt.start, utt.num_samples))
    # header lengths cached per set of roots: a large corpus is not re-read at every start
    cache = AudioInfoCache("files", [str(r) for r in plain])
    for path in find_audio_files(plain) if plain else []:
        try:
            try:
                frames, rate = cache.info(path)
            except FileNotFoundError:
                raise AudioError(path, "audio file not found") from None
            if rate != SAMPLE_RATE:
                raise AudioError(path, f"sample rate is {rate} Hz, expected {SAMPLE_RATE} Hz")
            if frames < min_samples:
                raise AudioError(path, f"{frames} samples is shorter than the {min_samples} one frame needs"
                                 if frames else "audio file is empty (0 samples)")
        except AudioError as err:
            warnings.warn(f"skipping {err}", stacklevel=2)
            skipped.append(str(err))
            continue
        paths.append(path)
        lengths.append(frames)
        spans.append(None)
    cache.save()
    if not paths:
        raise ValueError(f"no usable audio found under {roots!r} ({len(skipped)} file(s) skipped)")
    return Corpus(paths, lengths, skipped, spans)


def epoch_batches(lengths: Sequence[int], batch_size: int, seed: int, epoch: int, bucketing: bool = True,
                  rank: int = 0, world_size: int = 1) -> list[list[int]]:
    """This rank's batches (lists of utterance indices) for ``epoch``, in training order.

    With bucketing, utterances are sorted by length (ties by index) and cut into batches of
    ``batch_size`` neighbours, and the batches are shuffled; without, utterances are shuffled
    first. The order is drawn from a generator seeded with ``(seed, epoch)``. Under DDP the
    batch list is padded (repeating its start) to a multiple of ``world_size`` so every rank
    gets the same number of batches, and rank ``r`` takes batches ``r, r + W, ...``.
    """
    gen = torch.Generator().manual_seed(seed * 100003 + epoch)
    n = len(lengths)
    if bucketing:
        order = sorted(range(n), key=lambda i: (lengths[i], i))
    else:
        order = torch.randperm(n, generator=gen).tolist()
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    batches = [batches[i] for i in torch.randperm(len(batches), generator=gen).tolist()]
    if world_size > 1:
        short = -len(batches) % world_size
        batches = batches + batches[:short]
        batches = batches[rank::world_size]
    return batches


def crop_offset(num_samples: int, max_samples: int, seed: int, epoch: int, index: int) -> int:
    """Start of the random crop of utterance ``index`` in ``epoch`` (0 if it fits)."""
    if num_samples <= max_samples:
        return 0
    rng = np.random.default_rng([seed, epoch, index])
    return int(rng.integers(0, num_samples - max_samples + 1))


class BatchDataset(Dataset):
    """Item ``i`` = the waves of batch ``i`` (cropped), plus the files that failed to load."""

    def __init__(self, corpus: Corpus, batches: list[list[int]], max_samples: int, seed: int, epoch: int):
        self.corpus = corpus
        self.batches = batches
        self.max_samples = max_samples
        self.seed = seed
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.batches)

    def __getitem__(self, i: int) -> tuple[list[torch.Tensor], list[str]]:
        waves, failed = [], []
        for index in self.batches[i]:
            path = self.corpus.paths[index]
            start, frames = self.corpus.span(index)
            try:
                wave = load_audio(path, start=start, frames=frames)
            except AudioError as err:
                # the header was fine at scan time but the data is not: skip, the trainer counts it
                failed.append(str(err))
                continue
            start = crop_offset(wave.numel(), self.max_samples, self.seed, self.epoch, index)
            waves.append(wave[start:start + self.max_samples])
        return waves, failed


def collate_one(item):
    """DataLoader collate for ``batch_size=None``: the dataset item already is the batch."""
    return item
