"""``torch.hub.get_dir()`` without importing torch: the cache the downloads go into.

``aalbert hub list`` prints it and whether each pretrained model is there, and answers in a
fraction of torch's import time. Once torch is loaded its answer is the answer (a program may
have called ``torch.hub.set_dir``); before, torch's default is computed as torch computes it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def torch_hub_dir() -> Path:
    """What ``torch.hub.get_dir()`` says."""
    hub = sys.modules.get("torch.hub")
    if hub is not None:  # set_dir can only have been called once torch.hub is loaded
        return Path(hub.get_dir())
    return default_torch_hub_dir()


def default_torch_hub_dir() -> Path:
    """torch's default: ``$TORCH_HOME/hub``, ``$TORCH_HOME`` defaulting to ``$XDG_CACHE_HOME/torch``
    and ``$XDG_CACHE_HOME`` to ``~/.cache`` (torch.hub's ``_get_torch_home``)."""
    cache = os.getenv("XDG_CACHE_HOME", "~/.cache")
    return Path(os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(cache, "torch")))) / "hub"
