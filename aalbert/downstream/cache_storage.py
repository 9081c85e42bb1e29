"""How the feature cache stores its tensors: the storage dtype, and the manifest's hash that keeps dtypes apart.

float16 halves a disk cache at a relative error of 2.1e-4 per hidden state (bfloat16: 1.7e-3, same
size; measured on LibriSpeech in benchmarks/bench_feature_cache.py, which also measures the downstream
accuracy change); features are read back as float32 whatever they are stored in. A value beyond
float16's range (65504: a plugin upstream's unnormalised states) is an error naming bfloat16, never inf.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Literal

import torch

from aalbert.config import ConfigError

FORMAT = 2
STORAGE_DTYPES = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
# manifest keys whose default value is left out of the sub-folder's hash: a cache written before
# they existed (float32 files of an fp32 upstream) keeps its folder and is read as it is
HASH_DEFAULTS = {"storage_dtype": "float32", "precision": "fp32"}


def check_dtype(dtype: str) -> str:
    if dtype not in STORAGE_DTYPES:
        raise ValueError(f"feature cache dtype must be one of {', '.join(STORAGE_DTYPES)}, got {dtype!r}")
    return dtype


def manifest_hash(manifest: dict) -> str:
    """The sub-folder name of ``manifest``'s features (keys at their HASH_DEFAULTS value left out)."""
    hashed = {k: v for k, v in manifest.items() if HASH_DEFAULTS.get(k, object()) != v}
    return hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()[:16]


def stored(uttid: str, h: torch.Tensor, dtype: str) -> torch.Tensor:
    """``h`` (float32, on the host) as a cache of ``dtype`` stores it: its own contiguous copy
    (a slice of a batch tensor would keep, and save, the whole padded batch)."""
    out = h.to(STORAGE_DTYPES[dtype]).contiguous().clone()
    if dtype == "float16" and bool(out.isinf().any()) and bool(h.isfinite().all()):
        raise ConfigError(
            f"feature cache: {uttid} has hidden-state values up to {float(h.abs().max()):.3g}, beyond "
            "float16's range (65504): set runner.feature_cache_dtype=bfloat16 or float32"
        )
    return out


def read_back(feats: object, path: Path, dtype: str) -> torch.Tensor:
    """A cache file's (frames, hidden) tensor as float32, checked to be what a cache of ``dtype`` writes."""
    if not isinstance(feats, torch.Tensor) or feats.dim() != 2:
        raise ConfigError(f"feature cache file {path} does not hold a (frames, hidden) tensor; delete it")
    if feats.dtype != STORAGE_DTYPES[dtype]:  # the manifest keeps dtypes apart: a file put here by hand
        raise ConfigError(f"feature cache file {path} holds {feats.dtype}, this cache {dtype}; delete it")
    return feats.float()


def cache_manifest(
    upstream: str,
    ckpt: str | Path | None,
    init_seed: int | None,
    pool: Literal["none", "mean"],
    dtype: str = "float32",
    precision: str = "fp32",
) -> dict:
    """Whose features a cache folder holds: the upstream's identity (name and checkpoint content,
    see aalbert.hub.upstream_identity; for a randomly initialised model, the seed it was built
    from), the pooling, the precision the upstream ran in and the storage dtype."""
    from aalbert.hub import upstream_identity  # late: the hub imports every upstream family

    identity = upstream_identity(upstream, ckpt)
    random_weights = identity["kind"] not in ("pretrained", "local", "url") and ckpt is None
    seed = init_seed if random_weights else None
    check_dtype(dtype)
    return {
        "format": FORMAT,
        "upstream": identity,
        "init_seed": seed,
        "pool": pool,
        "storage_dtype": dtype,
        "precision": precision,
    }
