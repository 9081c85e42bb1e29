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
import warnings
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

from aalbert.errors import AalbertError, MissingFileError

ENTRY_POINT_GROUP = "aalbert.downstream"
_BUILTIN_PACKAGE = "aalbert.downstream"


class UnknownTaskError(AalbertError, KeyError):
    def __str__(self) -> str:  # KeyError would quote the whole message
        return str(self.args[0])


class TaskNameClashWarning(UserWarning):
    """Two providers of one task name: which one is used, and which is ignored."""


@dataclass
class Task:
    name: str
    expert_class: type
    default_config: Path
    source: str  # "builtin" or the distribution / entry point that provided it
    package: str = "aalbert"   # the distribution that provides the task
    version: str = ""          # its version (results.json records both)


def _package_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown package", ""
    return dist.metadata["Name"] or dist.name, dist.version


def builtin_tasks() -> list[str]:
    root = Path(str(resources.files(_BUILTIN_PACKAGE)))
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "expert.py").is_file())


def plugin_entry_points() -> dict[str, metadata.EntryPoint]:
    """One entry point per task name; a name given by several packages warns, naming them all,
    and the first one found on the path is used."""
    by_name: dict[str, list[metadata.EntryPoint]] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        if all(ep.value != other.value or _package_of(ep) != _package_of(other) for other in by_name.get(ep.name, [])):
            by_name.setdefault(ep.name, []).append(ep)
    for name, eps in by_name.items():
        if len(eps) > 1:
            packages = [f"{_package_of(ep)[0]} ({ep.value})" for ep in eps]
            warnings.warn(f"downstream task {name!r} is provided by several plugin packages: {', '.join(packages)}; "
                          f"using {packages[0]}", TaskNameClashWarning, stacklevel=2)
    return {name: eps[0] for name, eps in by_name.items()}


def _warn_if_shadowed(name: str, plugins: dict[str, metadata.EntryPoint]) -> None:
    if name in plugins:
        ep = plugins[name]
        warnings.warn(f"plugin task {name!r} of package {_package_of(ep)[0]} ({ep.value}) is shadowed by the "
                      f"built-in task {name!r} of package aalbert; rename the plugin's entry point to use it",
                      TaskNameClashWarning, stacklevel=3)


def available_tasks() -> list[str]:
    builtin = builtin_tasks()
    plugins = plugin_entry_points()
    for name in builtin:
        _warn_if_shadowed(name, plugins)
    return sorted(set(builtin) | set(plugins))


def load_task(name: str) -> Task:
    """The task called ``name``; ``UnknownTaskError`` listing the known ones otherwise."""
    plugins = plugin_entry_points()
    if name in builtin_tasks():
        _warn_if_shadowed(name, plugins)
        module = importlib.import_module(f"{_BUILTIN_PACKAGE}.{name}")
        return _task_from_module(name, module, "builtin", ("aalbert", _aalbert_version()))
    if name in plugins:
        ep = plugins[name]
        loaded = ep.load()
        if not isinstance(loaded, types.ModuleType):
            raise TypeError(f"plugin task {name} ({ep.value}) must point at a module holding Expert and "
                            f"config.yaml, got {type(loaded).__name__}")
        return _task_from_module(name, loaded, f"plugin {ep.value}", _package_of(ep))
    raise UnknownTaskError(f"unknown downstream task {name!r}; known tasks: {', '.join(available_tasks())}")


def _aalbert_version() -> str:
    from aalbert.experiment import version

    return version()


def _task_from_module(name: str, module: types.ModuleType, source: str, package: tuple[str, str]) -> Task:
    from .expert import Expert  # late: keeps `available_tasks` import-light

    expert = getattr(module, "Expert", None)
    if not (isinstance(expert, type) and issubclass(expert, Expert)):
        raise TypeError(f"task {name} ({module.__name__}) has no Expert class derived from "
                        "aalbert.downstream.expert.Expert")
    config = getattr(module, "DEFAULT_CONFIG", None)
    config = Path(config) if config else Path(module.__file__).parent / "config.yaml"
    if not config.is_file():
        raise MissingFileError(f"task {name} ({module.__name__}) has no default config at {config}")
    return Task(name, expert, config, source, *package)
