"""``aalbert extract --precision``: what the upstream loader is asked for.

int8 / bf16 / fp16 inference is the hub's ``precision=`` keyword (aalbert.hub_options,
aalbert.upstream.precision): every hub entry takes it. The device is checked first, so a precision
the device cannot run (int8 on CUDA, fp16 on CPU) is one clear error before anything is loaded.
"""

from __future__ import annotations

import torch

from aalbert.upstream.precision import PRECISIONS, check_precision


def upstream_options(precision: str, device: torch.device | str | None = None) -> dict:
    """The keywords of aalbert.hub.load_upstream for ``--precision`` on ``device``."""
    precision = check_precision(precision, device)
    return {} if precision == "fp32" else {"precision": precision}


__all__ = ["PRECISIONS", "upstream_options"]
