"""Downstream evaluation: featurizer, task experts (one folder per task), runner, registry.

aalbert downstream -m train -u aalbert -d phone_linear -n NAME

The names below are imported when first used (PEP 562), so that a command's parser
(``aalbert downstream --help``, ``--list-tasks``) never imports torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .featurizer import Featurizer
    from .registry import ENTRY_POINT_GROUP, Task, UnknownTaskError, available_tasks, load_task

_WHERE = {
    "Featurizer": ".featurizer",
    "ENTRY_POINT_GROUP": ".registry",
    "Task": ".registry",
    "UnknownTaskError": ".registry",
    "available_tasks": ".registry",
    "load_task": ".registry",
}
__all__ = ["ENTRY_POINT_GROUP", "Featurizer", "Task", "UnknownTaskError", "available_tasks", "load_task"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
