"""Frozen upstream features per layer, computed once and read back one layer at a time.

Probing trains several probes on every hidden state, so the upstream runs once per
utterance and its hidden states are kept: in memory (small sets) or on disk as one ``.pt``
per utterance and layer (``CACHE/layer_03/UTTID.pt``), so that training on one layer reads
only that layer's files. A disk cache carries a manifest naming the upstream, checkpoint and
pooling; a later run with the same manifest and every file present reuses it instead of
running the upstream again.

``pool="mean"`` keeps only the mean over each utterance's valid frames (a (1, H) tensor):
for utterance-level probes that is all they use, and it is L x T times smaller.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Iterable, Literal

import torch
from torch import nn
from tqdm import tqdm

from aalbert.audio import load_audio
from aalbert.downstream.data import Utterance

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
Pool = Literal["none", "mean"]


class FeatureCache:
    """Per-layer features keyed by utterance id; ``directory=None`` keeps them in memory."""

    def __init__(self, num_hidden_states: int, directory: str | Path | None = None):
        self.num_hidden_states = num_hidden_states
        self.directory = Path(directory) if directory is not None else None
        self._memory: list[dict[str, torch.Tensor]] = [{} for _ in range(num_hidden_states)]
        self.bytes = 0

    def _path(self, layer: int, uttid: str) -> Path:
        assert self.directory is not None
        return self.directory / f"layer_{layer:02d}" / f"{uttid}.pt"

    def put(self, uttid: str, states: list[torch.Tensor]) -> None:
        """``states``: one (T, H) tensor per hidden state, valid frames only."""
        if len(states) != self.num_hidden_states:
            raise ValueError(f"{uttid}: {len(states)} hidden states, expected {self.num_hidden_states}")
        for layer, h in enumerate(states):
            # clone: a slice of a batch tensor would keep (and save) the whole padded batch
            h = h.detach().to("cpu", torch.float32).contiguous().clone()
            self.bytes += h.numel() * h.element_size()
            if self.directory is None:
                self._memory[layer][uttid] = h
            else:
                path = self._path(layer, uttid)
                path.parent.mkdir(parents=True, exist_ok=True)
                torch.save(h, path)

    def layer(self, layer: int, uttids: Iterable[str]) -> list[torch.Tensor]:
        """The features of ``layer`` for ``uttids``, in that order."""
        if not 0 <= layer < self.num_hidden_states:
            raise IndexError(f"layer {layer} outside 0..{self.num_hidden_states - 1}")
        if self.directory is None:
            try:
                return [self._memory[layer][u] for u in uttids]
            except KeyError as err:
                raise KeyError(f"utterance {err.args[0]} is not in the feature cache") from err
        out = []
        for u in uttids:
            path = self._path(layer, u)
            if not path.is_file():
                raise FileNotFoundError(f"feature cache file missing: {path}")
            out.append(torch.load(path, weights_only=True))
        return out

    def complete(self, uttids: Iterable[str]) -> bool:
        if self.directory is None:
            return all(u in self._memory[-1] for u in uttids)
        return all(self._path(layer, u).is_file() for u in uttids for layer in range(self.num_hidden_states))

    # manifests only exist on disk: they say whose features the files hold
    def manifest_matches(self, manifest: dict) -> bool:
        if self.directory is None or not (self.directory / MANIFEST).is_file():
            return False
        return json.loads((self.directory / MANIFEST).read_text(encoding="utf-8")) == manifest

    def write_manifest(self, manifest: dict) -> None:
        if self.directory is not None:
            self.directory.mkdir(parents=True, exist_ok=True)
            (self.directory / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    def clear_manifest(self) -> None:
        if self.directory is not None and (self.directory / MANIFEST).is_file():
            (self.directory / MANIFEST).unlink()


@torch.no_grad()
def extract_features(upstream: nn.Module, utterances: list[Utterance], cache: FeatureCache, pool: Pool = "none",
                     batch_size: int = 8, device: torch.device | str = "cpu", progress: bool = True) -> None:
    """Run the frozen ``upstream`` once over ``utterances`` and store every hidden state."""
    if pool not in ("none", "mean"):
        raise ValueError(f"pool must be 'none' or 'mean', got {pool!r}")
    upstream = upstream.to(device).eval()  # eval: dropout must not reach frozen features
    batches = [utterances[i:i + batch_size] for i in range(0, len(utterances), batch_size)]
    for batch in tqdm(batches, desc="features", unit="batch", disable=not progress):
        out = upstream([load_audio(u.path).to(device) for u in batch])
        hidden, lengths = out["hidden_states"], out["lengths"]
        if len(hidden) != cache.num_hidden_states:
            raise ValueError(f"upstream gave {len(hidden)} hidden states, expected {cache.num_hidden_states}")
        for i, utt in enumerate(batch):
            n = int(lengths[i])
            states = [h[i, :n] for h in hidden]  # padding frames excluded here, once
            if pool == "mean":
                states = [h.mean(0, keepdim=True) for h in states]
            cache.put(utt.uttid, states)
    log.info("cached %d hidden states of %d utterances (%.1f MB)", cache.num_hidden_states, len(utterances),
             cache.bytes / 2**20)
