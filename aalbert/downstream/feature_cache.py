"""Frozen upstream features per hidden state, computed once and read back as often as needed.

A frozen upstream in eval mode is a fixed function of the audio, so running it again every
epoch (downstream training) or for every layer and probe (probing) repeats the same work.
Here the upstream runs once per utterance and its hidden states are kept: in memory, or on
disk as one ``.pt`` per utterance and hidden state (``CACHE/layer_03/UTTID.pt``) so that
several tasks can share them and a reader of one layer touches only that layer's files.

A disk cache carries a manifest saying whose features it holds (upstream, checkpoint, audio
root, pooling). Opening it for anything else empties it first; each file is written
atomically, so after a crash every file present is complete and only the missing utterances
are extracted again.

``pool="mean"`` keeps only the mean over each utterance's valid frames (a (1, H) tensor):
for utterance-level probes that is all they use, and it is T times smaller.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path
from typing import Iterable, Literal

import torch
from torch import nn
from tqdm import tqdm

from aalbert.atomic import torch_save_atomic, write_text_atomic
from aalbert.audio import audio_info, load_audio

from .data import Utterance

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
Pool = Literal["none", "mean"]


def cache_manifest(upstream: str, ckpt: str | Path | None, init_seed: int | None, pool: Pool,
                   audio_root: str | Path) -> dict:
    """Whose features a disk cache holds: the upstream's name and checkpoint file (or, for a
    randomly initialised hub model, the seed it was built from), the pooling and the audio."""
    path = Path(ckpt) if ckpt else None
    return {
        "upstream": upstream,
        "ckpt": str(path.resolve()) if path else None,
        "ckpt_stat": [path.stat().st_size, path.stat().st_mtime_ns] if path and path.is_file() else None,
        "init_seed": None if path else init_seed,
        "pool": pool,
        "audio_root": str(Path(audio_root).resolve()),
    }


class FeatureCache:
    """Per-hidden-state features keyed by utterance id; ``directory=None`` keeps them in memory."""

    def __init__(self, num_hidden_states: int, directory: str | Path | None = None):
        self.num_hidden_states = num_hidden_states
        self.directory = Path(directory) if directory is not None else None
        self._memory: list[dict[str, torch.Tensor]] = [{} for _ in range(num_hidden_states)]
        self.bytes = 0

    def _path(self, layer: int, uttid: str) -> Path:
        assert self.directory is not None
        return self.directory / f"layer_{layer:02d}" / f"{uttid}.pt"

    def open(self, manifest: dict) -> None:
        """Bind a disk cache to ``manifest``: files made for anything else are deleted first."""
        if self.directory is None:
            return
        path = self.directory / MANIFEST
        if path.is_file() and json.loads(path.read_text(encoding="utf-8")) == manifest:
            return
        if path.is_file():
            log.info("feature cache %s held features of %s: emptying it", self.directory, path.read_text().strip())
        for layer_dir in self.directory.glob("layer_*"):
            shutil.rmtree(layer_dir)
        write_text_atomic(path, json.dumps(manifest, indent=2) + "\n")

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
                torch_save_atomic(h, self._path(layer, uttid))

    def has(self, uttid: str) -> bool:
        """Every hidden state of ``uttid`` is cached."""
        if self.directory is None:
            return uttid in self._memory[-1]
        return all(self._path(layer, uttid).is_file() for layer in range(self.num_hidden_states))

    def complete(self, uttids: Iterable[str]) -> bool:
        return all(self.has(u) for u in uttids)

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

    def padded(self, uttids: list[str], device: torch.device | str = "cpu") -> tuple[list[torch.Tensor], torch.Tensor]:
        """A batch as the upstream would give it: every hidden state (B, T, H), zero-padded, and lengths."""
        states = [self.layer(layer, uttids) for layer in range(self.num_hidden_states)]
        lengths = torch.tensor([h.shape[0] for h in states[0]], dtype=torch.long)
        hidden = [torch.nn.utils.rnn.pad_sequence(per_utt, batch_first=True).to(device) for per_utt in states]
        return hidden, lengths.to(device)


@torch.no_grad()
def extract_features(upstream: nn.Module, utterances: list[Utterance], cache: FeatureCache, pool: Pool = "none",
                     batch_size: int = 8, device: torch.device | str = "cpu", progress: bool = True) -> None:
    """Run the frozen ``upstream`` once over ``utterances`` and store every hidden state.

    Batches hold utterances of similar length (sorted by the audio headers), so little compute
    goes to padding; each utterance's features are the same whichever batch it lands in.
    """
    if pool not in ("none", "mean"):
        raise ValueError(f"pool must be 'none' or 'mean', got {pool!r}")
    upstream = upstream.to(device).eval()  # eval: dropout must not reach frozen features
    by_length = sorted(utterances, key=lambda u: audio_info(u.path)[0])
    batches = [by_length[i:i + batch_size] for i in range(0, len(by_length), batch_size)]
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
    log.info("cached %d hidden states of %d utterances (%.1f MB so far)", cache.num_hidden_states, len(utterances),
             cache.bytes / 2**20)


def fill_cache(upstream: nn.Module, utterances: list[Utterance], cache: FeatureCache, manifest: dict,
               pool: Pool = "none", batch_size: int = 8, device: torch.device | str = "cpu",
               progress: bool = True) -> int:
    """Make sure every utterance is cached, running the upstream only on the missing ones.

    Returns how many utterances were extracted (0: the cache already held them all).
    """
    cache.open(manifest)
    missing = [u for u in utterances if not cache.has(u.uttid)]
    if len(missing) < len(utterances):
        log.info("feature cache %s: reusing %d of %d utterances", cache.directory or "in memory",
                 len(utterances) - len(missing), len(utterances))
    if missing:
        extract_features(upstream, missing, cache, pool, batch_size, device, progress)
    return len(missing)
