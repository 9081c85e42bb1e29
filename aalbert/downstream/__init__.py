"""Downstream evaluation: featurizer, task experts (one folder per task), runner, registry.

python run_downstream.py -m train -u aalbert -d phone_linear -n NAME
"""

from .featurizer import Featurizer
from .registry import ENTRY_POINT_GROUP, Task, UnknownTaskError, available_tasks, load_task

__all__ = ["ENTRY_POINT_GROUP", "Featurizer", "Task", "UnknownTaskError", "available_tasks", "load_task"]
