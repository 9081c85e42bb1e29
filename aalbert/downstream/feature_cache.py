"""Frozen upstream features per hidden state, computed once and read back as often as needed.

A frozen upstream in eval mode is a fixed function of the audio, so running it again every
epoch (downstream training) or for every layer and probe (probing) repeats the same work.
Here the upstream runs once per utterance and its hidden states are kept: in memory, or on
disk as one ``.pt`` per utterance and hidden state so that several tasks can share them and a
reader of one layer touches only that layer's files.

On disk nothing stale is ever read and nothing foreign is ever deleted:

* the folder is marked as a feature cache (``aalbert_feature_cache.json``); a folder holding
  anything else is refused, never emptied;
* each upstream gets its own sub-folder, named by a hash of its identity (the checkpoint's
  content hash, not its path or date; the pooling), so runs with different upstreams share
  one folder side by side, even at the same time;
* each utterance's entry records the identity of the audio it came from (path, size,
  modification time and a hash of its first and last 64 KiB, plus the segment), written after
  its feature files: an audio file changed since is extracted again. That ``quick`` check
  misses an edit inside the middle of a file that keeps its size and modification time (an
  editor told to preserve them, ``touch -r``): ``check="full"`` (``runner.feature_cache_check``)
  adds a sha256 of the whole file, which reads every audio file at every start;
* an utterance id names its files only through :func:`aalbert.safe_names.file_name`, so an id
  such as ``../../x`` stays inside the cache, and ids differing in case get different files;
* every file is written to a temporary name and renamed, so a reader never sees half a file
  and concurrent writers of the same upstream cannot corrupt each other.

``pool="mean"`` keeps only the mean over each utterance's valid frames (a (1, H) tensor):
for utterance-level probes that is all they use, and it is T times smaller.

``dtype`` (``runner.feature_cache_dtype``) is how tensors are stored, read back as float32 (see
aalbert.downstream.cache_storage). It and the upstream's precision are in the manifest, so caches
of different dtypes never mix; a float32 cache hashes as before they were: an older aalbert's cache
is read as it is with float32, and extracted again into a new sub-folder under the float16 default.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import torch
from torch import nn
from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files, torch_save_atomic, write_text_atomic
from aalbert.audio import audio_file_key
from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.config import ConfigError
from aalbert.corpus.utterance import Utterance
from aalbert.download import sha256_of
from aalbert.safe_names import file_name

from .cache_storage import FORMAT, check_dtype, manifest_hash, read_back, stored
from .cache_storage import cache_manifest as cache_manifest  # its home is cache_storage; imported from here
from .extraction import extract_batches, length_batches

log = logging.getLogger(__name__)
MARKER = "aalbert_feature_cache.json"
MANIFEST = "manifest.json"
Pool = Literal["none", "mean"]
Check = Literal["quick", "full"]
CHECKS = ("quick", "full")


def audio_key(utt: Utterance, check: Check = "quick") -> dict:
    """What identifies the audio an utterance's features came from: ``quick`` = path, size,
    modification time and a sha256 of the file's first and last 64 KiB (and the segment);
    ``full`` = the same and a sha256 of the whole file."""
    if check not in CHECKS:
        raise ValueError(f"check must be 'quick' or 'full', got {check!r}")
    key = {**audio_file_key(utt.path), "start": utt.start, "num_samples": utt.num_samples}
    if utt.channel is not None:  # another wave of the same file (data.channel); mono keys stay as they were
        key["channel"] = utt.channel
    path = key["path"]
    if check == "full":
        key["sha256"] = sha256_of(Path(path))
    return key


def _matches(stored: dict, key: dict) -> bool:
    """Every field of ``key`` is in the entry with the same value: an entry written with the full
    check also serves the quick one; one written with the quick check fails the full one (it has
    no whole-file hash) and is extracted again, once."""
    key = json.loads(json.dumps(key))  # as it reads back (tuples -> lists)
    return all(k in stored and stored[k] == v for k, v in key.items())


class FeatureCache:
    """Per-hidden-state features keyed by utterance id; ``directory=None`` keeps them in memory;
    ``dtype``: how they are stored (float32, float16, bfloat16)."""

    def __init__(self, num_hidden_states: int, directory: str | Path | None = None, dtype: str = "float32"):
        self.dtype = check_dtype(dtype)
        self.num_hidden_states = num_hidden_states
        self.root = Path(directory) if directory is not None else None
        self.directory: Path | None = None  # this upstream's sub-folder, set by open()
        self._memory: list[dict[str, torch.Tensor]] = [{} for _ in range(num_hidden_states)]
        self._keys: dict[str, dict] = {}
        self.bytes = 0

    def open(self, manifest: dict) -> None:
        """Bind a disk cache to ``manifest``: its sub-folder of the cache folder."""
        if self.root is None:
            return
        root = self.root
        marker = root / MARKER
        # another run may be writing the marker right now: its temporary file is not foreign
        others = [p for p in root.iterdir() if not p.name.startswith(f".{MARKER}.")] if root.is_dir() else []
        if others and not marker.is_file():
            if (root / MANIFEST).is_file() and all(p.name == MANIFEST or p.name.startswith("layer_") for p in others):
                raise ConfigError(
                    f"feature cache folder {root} holds features in the layout of an older aalbert "
                    "(no per-upstream sub-folders); delete the folder to rebuild it in the new layout"
                )
            raise ConfigError(
                f"feature cache folder {root} holds files that a feature cache did not write (no "
                f"{MARKER}); it is left untouched: give an empty or new folder to runner.feature_cache"
            )
        if not marker.is_file():
            write_text_atomic(marker, json.dumps({"format": FORMAT}) + "\n")
        if manifest.get("storage_dtype", "float32") != self.dtype:
            raise ValueError(f"the manifest says {manifest.get('storage_dtype')}, this cache stores {self.dtype}")
        self.directory = root / manifest_hash(manifest)
        remove_stale_temp_files(self.directory, recursive=True)
        if not (self.directory / MANIFEST).is_file():
            write_text_atomic(self.directory / MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")

    def _path(self, layer: int, uttid: str) -> Path:
        assert self.directory is not None, "open() the disk cache first"
        return self.directory / f"layer_{layer:02d}" / f"{file_name(uttid)}.pt"

    def _key_path(self, uttid: str) -> Path:
        assert self.directory is not None, "open() the disk cache first"
        return self.directory / "audio" / f"{file_name(uttid)}.json"

    def put(self, uttid: str, states: list[torch.Tensor], key: dict | None = None) -> None:
        """``states``: one (T, H) tensor per hidden state, valid frames only; ``key``: the audio's identity."""
        if len(states) != self.num_hidden_states:
            raise ValueError(f"{uttid}: {len(states)} hidden states, expected {self.num_hidden_states}")
        for layer, h in enumerate(states):
            h = stored(uttid, h.detach().to("cpu", torch.float32), self.dtype)  # a copy: not the whole batch
            self.bytes += h.numel() * h.element_size()
            if self.root is None:
                self._memory[layer][uttid] = h
            else:
                torch_save_atomic(h, self._path(layer, uttid))
        if self.root is not None:
            # last: an entry counts only once all its files are there
            write_text_atomic(self._key_path(uttid), json.dumps(key or {}, sort_keys=True))

    def has(self, uttid: str, key: dict | None = None) -> bool:
        """Every hidden state of ``uttid`` is cached (and, on disk, made from audio with ``key``)."""
        if self.root is None:
            return uttid in self._memory[-1]
        path = self._key_path(uttid)
        if not path.is_file():
            return False
        if key is not None:
            try:
                stored = json.loads(path.read_text())
            except ValueError:
                return False
            if not isinstance(stored, dict) or not _matches(stored, key):
                return False
        return all(self._path(layer, uttid).is_file() for layer in range(self.num_hidden_states))

    def complete(self, uttids: Iterable[str]) -> bool:
        return all(self.has(u) for u in uttids)

    def layer(self, layer: int, uttids: Iterable[str]) -> list[torch.Tensor]:
        """The features of ``layer`` for ``uttids``, in that order."""
        if not 0 <= layer < self.num_hidden_states:
            raise IndexError(f"layer {layer} outside 0..{self.num_hidden_states - 1}")
        if self.root is None:
            try:
                return [self._memory[layer][u].float() for u in uttids]  # float32: the same tensor
            except KeyError as err:
                raise KeyError(f"utterance {err.args[0]} is not in the feature cache") from err
        out = []
        for u in uttids:
            path = self._path(layer, u)
            if not path.is_file():
                raise FileNotFoundError(f"feature cache file missing: {path}")
            out.append(read_back(load_checkpoint_file(path, expected=object), path, self.dtype))
        return out

    def in_memory(self, layers: Iterable[int], uttids: Iterable[str]) -> FeatureCache:
        """An in-memory cache of just ``layers`` of ``uttids``, read once: for a model that reads those
        states for many epochs (a probe of one layer), instead of every file at every batch."""
        view, ids = FeatureCache(self.num_hidden_states, dtype=self.dtype), list(uttids)
        for layer in layers:
            view._memory[layer] = dict(zip(ids, self.layer(layer, ids)))
        return view

    def padded(
        self, uttids: list[str], device: torch.device | str = "cpu", layers: Iterable[int] | None = None
    ) -> tuple[list[torch.Tensor | None], torch.Tensor]:
        """A batch as the upstream would give it: every hidden state (B, T, H), zero-padded, and lengths.

        ``layers``: read only these hidden states (the others are None), e.g. the one a featurizer selects:
        a probe of one layer reads that layer's files only."""
        wanted = set(range(self.num_hidden_states) if layers is None else layers)
        states = [self.layer(layer, uttids) if layer in wanted else None for layer in range(self.num_hidden_states)]
        first = next(s for s in states if s is not None)
        lengths = torch.tensor([h.shape[0] for h in first], dtype=torch.long)
        hidden = [
            None if per_utt is None else torch.nn.utils.rnn.pad_sequence(per_utt, batch_first=True).to(device)
            for per_utt in states
        ]
        return hidden, lengths.to(device)


@torch.no_grad()
def extract_features(
    upstream: nn.Module,
    utterances: list[Utterance],
    cache: FeatureCache,
    pool: Pool = "none",
    batch_size: int = 8,
    device: torch.device | str = "cpu",
    progress: bool = True,
    keys: dict[str, dict] | None = None,
) -> None:
    """Run the frozen ``upstream`` once over ``utterances`` and store every hidden state.

    Batches hold utterances of similar length (sorted by the audio headers), so little compute
    goes to padding; each utterance's features are the same whichever batch it lands in. The
    batching and the run are aalbert.downstream.extraction's, which ``aalbert extract`` uses too.
    """
    if pool not in ("none", "mean"):
        raise ValueError(f"pool must be 'none' or 'mean', got {pool!r}")
    batches = length_batches(utterances, batch_size)
    with tqdm(total=len(batches), desc="features", unit="batch", disable=not progress) as bar:
        for done in extract_batches(upstream, batches, device, cache.num_hidden_states, lambda _: bar.update(1)):
            for i, utt in enumerate(done.utterances):
                states = done.valid(i)  # padding frames excluded here, once
                if pool == "mean":
                    states = [h.mean(0, keepdim=True) for h in states]
                cache.put(utt.uttid, states, (keys or {}).get(utt.uttid))
    log.info(
        "cached %d hidden states of %d utterances (%.1f MB so far)",
        cache.num_hidden_states,
        len(utterances),
        cache.bytes / 2**20,
    )


def fill_cache(
    upstream: nn.Module,
    utterances: list[Utterance],
    cache: FeatureCache,
    manifest: dict,
    pool: Pool = "none",
    batch_size: int = 8,
    device: torch.device | str = "cpu",
    progress: bool = True,
    check: Check = "quick",
) -> int:
    """Make sure every utterance is cached from its current audio (as far as ``check`` tells, see
    :func:`audio_key`), running the upstream only on the missing or changed ones. Returns how
    many utterances were extracted."""
    cache.open(manifest)
    keys = {u.uttid: audio_key(u, check) for u in utterances} if cache.root is not None else {}
    missing = [u for u in utterances if not cache.has(u.uttid, keys.get(u.uttid))]
    if cache.root is not None:
        changed = sum(cache._key_path(u.uttid).is_file() for u in missing)
        if changed:
            log.warning(
                "feature cache %s: %d utterance(s) whose audio changed since they were cached%s: extracting them again",
                cache.directory,
                changed,
                " (or that were cached without the whole-file hash of the full check)" if check == "full" else "",
            )
    if len(missing) < len(utterances):
        log.info(
            "feature cache %s: reusing %d of %d utterances",
            cache.directory or "in memory",
            len(utterances) - len(missing),
            len(utterances),
        )
    if missing:
        extract_features(upstream, missing, cache, pool, batch_size, device, progress, keys)
    return len(missing)
