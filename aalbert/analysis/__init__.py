"""Analysis of upstream layers: attention Jensen-Shannon divergence between layers, per-layer probing.

aalbert attention -u aalbert_local -k CKPT --data DIR --num-utterances 50 -n NAME      (attention.py, jsd.py)
aalbert probe -u aalbert_local -k CKPT --task phone --data DIR -n NAME           (probing.py, probe*.py)
aalbert plots layer-weights EXPDIR                                              (plots.py)

The names below are imported when first used (PEP 562), so that a command's parser never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .jsd import LN2, JSDAccumulator, jsd, utterance_jsd_sums

__all__ = ["LN2", "JSDAccumulator", "jsd", "utterance_jsd_sums"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(".jsd", __name__), name)
