"""The order of training batches as a function of (seed, epoch): what makes resuming exact.

Each epoch's order is a permutation drawn from its own generator seeded by (seed, epoch), so a
run resumed in the middle of epoch ``e`` at batch ``b`` builds the very same order and simply
starts at ``b``. Under DDP every rank takes its share of the same permutation (padded by
repeating the first indices, as DistributedSampler does), so ranks never overlap.
"""

from __future__ import annotations

import math

import torch
from torch.utils.data import Sampler


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


class EpochBatchSampler(Sampler[list[int]]):
    """Batches of epoch ``epoch`` from batch ``start`` on, for this rank."""

    def __init__(
        self, size: int, batch_size: int, seed: int, epoch: int, start: int = 0, rank: int = 0, world_size: int = 1
    ):
        self.size, self.batch_size, self.seed, self.epoch = size, batch_size, seed, epoch
        self.start, self.rank, self.world_size = start, rank, world_size

    def _indices(self) -> list[int]:
        order = torch.randperm(self.size, generator=epoch_generator(self.seed, self.epoch)).tolist()
        if self.world_size > 1:
            per_rank = math.ceil(self.size / self.world_size)
            order = (order * self.world_size)[: per_rank * self.world_size]
            order = order[self.rank :: self.world_size]
        return order

    def batches_per_epoch(self) -> int:
        per_rank = math.ceil(self.size / self.world_size) if self.world_size > 1 else self.size
        return math.ceil(per_rank / self.batch_size)

    def __iter__(self):
        order = self._indices()
        for first in range(self.start * self.batch_size, len(order), self.batch_size):
            yield order[first : first + self.batch_size]

    def __len__(self) -> int:
        return max(0, self.batches_per_epoch() - self.start)
