"""Pretraining data: the audio (read by the corpus readers), length-bucketed batch order, seeded
random crops.

Everything random here is a pure function of ``(seed, epoch, ...)``: the batch order of an
epoch and each utterance's crop offset. Resuming at ``(epoch, position)`` therefore replays
exactly the batches a straight run would have seen, with no RNG state to carry, and every
DDP rank derives the same order and takes its own share of it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from aalbert.audio import AudioError
from aalbert.corpus.sources import read_source
from aalbert.corpus.spec import CorpusSpec
from aalbert.corpus.utterance import CorpusListing, Utterance, load_utterance_audio
from aalbert.errors import BadInputError


def scan_corpus(specs: Iterable[CorpusSpec], min_samples: int = 1) -> CorpusListing:
    """Every usable utterance of ``specs`` with its length, pooled in source order.

    ``specs``: what ``PretrainDataConfig.corpus_specs()`` (aalbert.corpus.sources.source_specs)
    makes of the recipe's roots; each is read by its corpus reader, which validates it up front
    and decodes every audio file once (aalbert.corpus.audio_check): a file cut short, holding
    NaN samples or with several channels is an error before step 1 (``data.bad_audio: skip``
    leaves it out, listed in ``unusable``: the checkpoint counts it).
    Unusable plain audio files (unreadable, empty, off-rate: the ``files`` reader) and utterances
    shorter than ``min_samples`` are skipped with a warning (one per file) and listed in
    ``unusable``; no usable utterance at all is an error.
    """
    specs = list(specs)
    utterances: list[Utterance] = []
    unusable: list[str] = []
    skipped: dict[str, int] = {}
    for spec in specs:
        listing = read_source(spec)  # warns of each unusable file
        unusable += listing.unusable
        for reason, count in listing.skipped.items():
            skipped[reason] = skipped.get(reason, 0) + count
        for utt in listing.utterances:
            if utt.measured_num_samples() < min_samples:
                unusable.append(
                    f"{utt.source}: utterance {utt.uttid} has {utt.num_samples} samples, shorter than "
                    f"the {min_samples} one frame needs"
                )
                warnings.warn(f"skipping {unusable[-1]}", stacklevel=2)
                continue
            utterances.append(utt)
    roots = [Path(r) for spec in specs for r in spec.roots]
    if not utterances:
        raise BadInputError(
            f"no usable audio found under {', '.join(map(str, roots))} ({len(unusable)} utterance(s) skipped)"
        )
    return CorpusListing(
        "+".join(dict.fromkeys(s.format for s in specs)), roots, utterances, skipped=skipped, unusable=unusable
    )


def epoch_batches(
    lengths: Sequence[int],
    batch_size: int,
    seed: int,
    epoch: int,
    bucketing: bool = True,
    rank: int = 0,
    world_size: int = 1,
) -> list[list[int]]:
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
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
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

    def __init__(self, corpus: CorpusListing, batches: list[list[int]], max_samples: int, seed: int, epoch: int):
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
            try:
                wave = load_utterance_audio(self.corpus.utterances[index])
            except AudioError as err:
                # the file decoded cleanly at scan time but not now (changed since): skip, the trainer counts it
                failed.append(str(err))
                continue
            start = crop_offset(wave.numel(), self.max_samples, self.seed, self.epoch, index)
            waves.append(wave[start : start + self.max_samples])
        return waves, failed


def collate_one(item):
    """DataLoader collate for ``batch_size=None``: the dataset item already is the batch."""
    return item


def batch_loader(dataset: BatchDataset, seed: int, epoch: int, num_workers: int, pin_memory: bool) -> DataLoader:
    """The loader of one epoch's batches (``dataset`` holds them whole). It gets its own generator:
    making its iterator must not draw from the global RNG (resume-exact)."""
    return DataLoader(
        dataset,
        batch_size=None,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=collate_one,
        generator=torch.Generator().manual_seed(seed * 7919 + epoch),
        persistent_workers=False,
        pin_memory=pin_memory,
    )
