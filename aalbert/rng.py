"""Seeding, and every RNG's state as tensors and plain types (exact resume of pretraining and
downstream training alike).

A checkpoint restores the states weights-only: numpy's and Python's states are tuples holding
arrays / 625-int tuples, so they are stored as int64 tensors plus the scalars needed to rebuild
them.
"""

from __future__ import annotations

import random

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python's, numpy's and torch's global RNGs (numpy takes the seed modulo 2**32)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture(mask_generator: torch.Generator | None = None) -> dict:
    """Every RNG a training step draws from (torch, numpy, python, CUDA, and an extra generator)."""
    np_state = np.random.get_state()
    # the global RandomState is an MT19937, whose legacy state is this tuple (a dict is for other generators)
    assert isinstance(np_state, tuple)
    np_name, np_keys, np_pos, np_has_gauss, np_gauss = np_state
    py_version, py_state, py_gauss = random.getstate()
    state = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "name": np_name,
            "keys": torch.from_numpy(np_keys.astype(np.int64)),
            "pos": int(np_pos),
            "has_gauss": int(np_has_gauss),
            "gauss": float(np_gauss),
        },
        "python": {"version": int(py_version), "state": torch.tensor(py_state, dtype=torch.int64), "gauss": py_gauss},
    }
    if mask_generator is not None:
        state["mask"] = mask_generator.get_state()
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore(state: dict, mask_generator: torch.Generator | None = None) -> None:
    """Put back what :func:`capture` took."""
    torch.set_rng_state(state["torch"])
    np_state = state["numpy"]
    np.random.set_state(
        (
            np_state["name"],
            np_state["keys"].numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["gauss"],
        )
    )
    py = state["python"]
    random.setstate((py["version"], tuple(int(v) for v in py["state"].tolist()), py["gauss"]))
    if mask_generator is not None:
        mask_generator.set_state(state["mask"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
