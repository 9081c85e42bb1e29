"""Training one probe on one layer's frozen features.

The probe *is* a downstream expert (``FrameClassifierExpert`` for phones,
``SpeakerUtteranceExpert`` for speakers) with ``hidden_layers`` 0, 1 or 2, so a probe's
accuracy means exactly what the downstream task's accuracy means (same label alignment,
padding and pooling rules). Only the loop differs: batches of cached features instead of
waves, AdamW, one dev evaluation per epoch, early stopping on the expert's main metric, and
the best epoch's weights scored on test.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import torch
from tqdm import tqdm

from aalbert.downstream.data import Batch, Utterance
from aalbert.downstream.expert import Expert, TaskContext

PROBES = {"linear": 0, "1hidden": 1, "2hidden": 2}   # name -> hidden layers


@dataclass
class ProbeTrainConfig:
    epochs: int = 20
    max_steps: int | None = None   # stop after this many updates in total, whatever the epoch
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.01
    patience: int = 3              # epochs without dev improvement before stopping
    hidden_size: int = 256
    dropout: float = 0.1
    seed: int = 1337

    def __post_init__(self):
        for name in ("epochs", "batch_size", "patience", "hidden_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {self.max_steps}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclass
class ProbeResult:
    dev: dict[str, float]
    test: dict[str, float]
    best_epoch: int
    epochs_run: int
    steps: int


def probe_depth(name: str) -> int:
    if name not in PROBES:
        raise ValueError(f"unknown probe {name!r}; choose from {', '.join(PROBES)}")
    return PROBES[name]


@dataclass
class SplitFeatures:
    """One split of one layer: features (T_i, H) aligned with their utterances."""
    utterances: list[Utterance]
    features: list[torch.Tensor]


def make_batch(split: SplitFeatures, indices: list[int], speaker_index, device) -> tuple[torch.Tensor, torch.Tensor, Batch]:
    feats = [split.features[i] for i in indices]
    utts = [split.utterances[i] for i in indices]
    lengths = torch.tensor([f.shape[0] for f in feats])
    padded = torch.nn.utils.rnn.pad_sequence(feats, batch_first=True).to(device)
    # the experts read labels from the Batch; waves are not needed once features are cached
    batch = Batch([u.uttid for u in utts], [], torch.tensor([speaker_index(u.speaker) for u in utts]),
                  [u.phones for u in utts])
    return padded, lengths.to(device), batch


@torch.no_grad()
def evaluate_probe(expert: Expert, split: SplitFeatures, batch_size: int, speaker_index, device) -> dict[str, float]:
    expert.eval()
    totals: dict[str, float] = {}
    loss_sum, batches = 0.0, 0
    for start in range(0, len(split.features), batch_size):
        feats, lengths, batch = make_batch(split, list(range(start, min(start + batch_size, len(split.features)))),
                                           speaker_index, device)
        out = expert(feats, lengths, batch)
        loss_sum += float(out.loss)
        batches += 1
        for key, value in out.counts.items():
            totals[key] = totals.get(key, 0.0) + float(value)
    metrics = type(expert).metrics(totals)
    metrics["loss"] = loss_sum / max(batches, 1)
    return metrics


def train_probe(expert_class: type[Expert], context: TaskContext, depth: int, splits: dict[str, SplitFeatures],
                cfg: ProbeTrainConfig, device: torch.device | str = "cpu", desc: str = "probe",
                progress: bool = True) -> ProbeResult:
    """Train a probe with ``depth`` hidden layers on ``splits['train']``; pick the epoch by dev."""
    torch.manual_seed(cfg.seed)  # same initialisation for every layer: differences come from the features
    expert = expert_class(context, {"hidden_layers": depth, "hidden_size": cfg.hidden_size,
                                    "dropout": cfg.dropout}).to(device)
    metric, higher = expert_class.main_metric, expert_class.higher_is_better
    optimizer = torch.optim.AdamW(expert.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    speaker_index = context.corpus.speaker_index
    train = splits["train"]
    generator = torch.Generator().manual_seed(cfg.seed)
    best_value, best_state, best_epoch, best_dev = None, None, 0, {}
    steps, epoch, stale = 0, 0, 0
    bar = tqdm(range(1, cfg.epochs + 1), desc=desc, unit="epoch", leave=False, disable=not progress)
    for epoch in bar:
        expert.train()
        order = torch.randperm(len(train.features), generator=generator).tolist()
        for start in range(0, len(order), cfg.batch_size):
            feats, lengths, batch = make_batch(train, order[start:start + cfg.batch_size], speaker_index, device)
            loss = expert(feats, lengths, batch).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            steps += 1
            if cfg.max_steps is not None and steps >= cfg.max_steps:
                break
        dev = evaluate_probe(expert, splits["dev"], cfg.batch_size, speaker_index, device)
        value = dev[metric]
        improved = best_value is None or (not math.isnan(value) and (value > best_value if higher else value < best_value))
        if improved:
            best_value, best_epoch, best_dev = value, epoch, dev
            best_state = copy.deepcopy(expert.state_dict())
            stale = 0
        else:
            stale += 1
        bar.set_postfix({f"dev_{metric}": f"{value:.3f}", "best": f"{best_value:.3f}"})
        if stale >= cfg.patience or (cfg.max_steps is not None and steps >= cfg.max_steps):
            break
    bar.close()
    expert.load_state_dict(best_state)
    test = evaluate_probe(expert, splits["test"], cfg.batch_size, speaker_index, device)
    return ProbeResult(best_dev, test, best_epoch, epoch, steps)
