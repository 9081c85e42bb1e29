"""Evaluating a downstream model (a task or a probe) on one split: summed counts -> the expert's metrics."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset
from tqdm import tqdm

from .data import collate
from .expert import add_counts
from .model import DownstreamModel


def split_loader(dataset: Dataset, batch_size: int, seed: int, num_workers: int = 0) -> DataLoader:
    """An evaluation loader: the split in corpus order; draws nothing from the global RNG."""
    return DataLoader(
        dataset,
        batch_size,
        shuffle=False,
        collate_fn=collate,
        num_workers=num_workers,
        generator=torch.Generator().manual_seed(seed),
    )


@torch.no_grad()
def evaluate(model: DownstreamModel, loader: DataLoader, desc: str = "eval", progress: bool = True) -> dict:
    was_training = model.training
    model.eval()
    totals: dict = {}
    loss_sum, batches = 0.0, 0
    for batch in tqdm(loader, desc=desc, leave=False, disable=not progress):
        out = model(batch)
        loss_sum += float(out.loss)
        batches += 1
        add_counts(totals, out.counts)
    model.train(was_training)
    metrics = model.expert.metrics(totals) if batches else {}
    metrics["loss"] = loss_sum / max(batches, 1)
    return metrics
