"""Finding a task by name: built-in task folders, then plugins.

A task is a Python package holding ``Expert`` (a subclass of ``aalbert.downstream.expert.Expert``)
and a ``config.yaml`` with its defaults. Built-in tasks are the sub-packages of
``aalbert.downstream`` that have an ``expert.py``; third-party packages add tasks through
the entry-point group ``aalbert.downstream`` (``name = package.module``, pointing at such a
package). See docs/adding_a_task.md.
"""

from __future__ import annotations

import importlib
import types
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

ENTRY_POINT_GROUP = "aalbert.downstream"
_BUILTIN_PACKAGE = "aalbert.downstream"


class UnknownTaskError(KeyError):
    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


@dataclass
class Task:
    name: str
    expert_class: type
    default_config: Path
    source: str  # "builtin" or the distribution / entry point that provided it


def builtin_tasks() -> list[str]:
    root = Path(str(resources.files(_BUILTIN_PACKAGE)))
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "expert.py").is_file())


def plugin_entry_points() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_tasks() -> list[str]:
    return sorted(set(builtin_tasks()) | set(plugin_entry_points()))


def load_task(name: str) -> Task:
    """The task called ``name``; ``UnknownTaskError`` listing the known ones otherwise."""
    if name in builtin_tasks():
        module = importlib.import_module(f"{_BUILTIN_PACKAGE}.{name}")
        return _task_from_module(name, module, "builtin")
    plugins = plugin_entry_points()
    if name in plugins:
        ep = plugins[name]
        loaded = ep.load()
        if not isinstance(loaded, types.ModuleType):
            raise TypeError(f"plugin task {name} ({ep.value}) must point at a module holding Expert and "
                            f"config.yaml, got {type(loaded).__name__}")
        return _task_from_module(name, loaded, f"plugin {ep.value}")
    raise UnknownTaskError(f"unknown downstream task {name!r}; known tasks: {', '.join(available_tasks())}")


def _task_from_module(name: str, module: types.ModuleType, source: str) -> Task:
    from .expert import Expert  # late: keeps `available_tasks` import-light

    expert = getattr(module, "Expert", None)
    if not (isinstance(expert, type) and issubclass(expert, Expert)):
        raise TypeError(f"task {name} ({module.__name__}) has no Expert class derived from "
                        "aalbert.downstream.expert.Expert")
    config = getattr(module, "DEFAULT_CONFIG", None)
    config = Path(config) if config else Path(module.__file__).parent / "config.yaml"
    if not config.is_file():
        raise FileNotFoundError(f"task {name} ({module.__name__}) has no default config at {config}")
    return Task(name, expert, config, source)
