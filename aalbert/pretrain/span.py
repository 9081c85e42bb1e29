"""Mask spans in time: ``task.mask_consecutive`` counts (stacked) frames, what matters is milliseconds.

``mask_consecutive`` stays in frames for s3prl compatibility (its checkpoints record
``mask_consecutive_min/max`` in frames), but the same 7 frames are 70 ms without stacking and
210 ms with the papers' 3-frame stacking. A span much shorter than a phone (~50-150 ms) can be
filled in by interpolating the frames on either side of it, which a small model learns long
before it learns anything about phones; so a recipe whose span is under ``MIN_SPAN_MS`` gets a
warning that says how long its span is and how to lengthen it.
"""

from __future__ import annotations

import warnings

from aalbert.pretrain.config import PretrainConfig

MIN_SPAN_MS = 100.0


class ShortMaskSpanWarning(UserWarning):
    """The recipe masks spans shorter than ``MIN_SPAN_MS`` (filter it by this class if intended)."""


def mask_span_ms(cfg: PretrainConfig) -> float:
    """Length of one mask span in milliseconds: mask_consecutive x stacking x hop."""
    return cfg.task.mask_consecutive * cfg.model.stacking * cfg.audio.hop_ms


def check_mask_span(cfg: PretrainConfig, min_ms: float = MIN_SPAN_MS) -> float:
    """The span in ms; warns (``ShortMaskSpanWarning``) when it is shorter than ``min_ms``."""
    span = mask_span_ms(cfg)
    if span < min_ms:
        stacking, hop = cfg.model.stacking, cfg.audio.hop_ms
        needed = -(-int(min_ms) // (stacking * hop))  # ceil: frames for at least min_ms
        warnings.warn(
            f"mask spans are {span:g} ms (task.mask_consecutive={cfg.task.mask_consecutive} x stacking {stacking} "
            f"x hop {hop:g} ms), shorter than a typical phone (~{min_ms:g} ms): the model can fill them in by "
            f"interpolating their neighbours. Set task.mask_consecutive >= {needed} or model.stacking=3 "
            f"for spans of >= {min_ms:g} ms.",
            ShortMaskSpanWarning,
            stacklevel=2,
        )
    return span
