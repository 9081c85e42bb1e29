"""aalbert.rng: one seeding and one RNG-state capture for pretraining and downstream resume."""

import random

import numpy as np
import torch

from aalbert import rng
from aalbert.checkpoint_file import load_checkpoint_file


def _draws(gen: torch.Generator | None = None) -> tuple:
    extra = torch.rand(2, generator=gen).tolist() if gen is not None else []
    return random.random(), float(np.random.rand()), torch.rand(3).tolist(), extra


def test_seed_everything_repeats_every_rng():
    rng.seed_everything(7)
    first = _draws()
    rng.seed_everything(7)
    assert _draws() == first
    rng.seed_everything(8)
    assert _draws() != first


def test_seeds_outside_numpys_range_still_seed():
    rng.seed_everything(2**32 + 5)
    a = _draws()
    rng.seed_everything(-3)
    assert _draws() != a


def test_captured_state_survives_a_weights_only_checkpoint(tmp_path):
    gen = torch.Generator().manual_seed(1)
    rng.seed_everything(3)
    _draws(gen)
    torch.save(rng.capture(gen), tmp_path / "rng.pt")
    expected = _draws(gen)
    _draws(gen)  # move every stream on
    rng.restore(load_checkpoint_file(tmp_path / "rng.pt"), gen)
    assert _draws(gen) == expected
