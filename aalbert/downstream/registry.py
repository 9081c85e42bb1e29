"""Finding a task by name: built-in task folders, then plugins; reading a task's config.yaml.

A task is an expert (a subclass of ``aalbert.downstream.expert.Expert``) and a ``config.yaml``
with its defaults. Built-in tasks are the folders of ``aalbert/downstream/`` holding a
``config.yaml``. A task with code of its own has an ``expert.py`` (class ``Expert``) beside it;
a task built from a shared expert names it in its config instead::

    expert: aalbert.downstream.frame_classifier:FrameClassifierExpert

A config may extend a base (``extends: ../phone_base.yaml``, relative to the file): the base is
read first and the config's own keys override it, section by section (:func:`load_task_config`,
the one reader of task configs). s3prl's names for our tasks (``speaker_linear_utter_libri``...)
are aliases (aalbert.downstream.s3prl_names). Third-party packages add tasks through the entry-point group
``aalbert.downstream`` (``name = package.module``, pointing at a module holding ``Expert`` or
beside a ``config.yaml`` that names one). See docs/adding_a_task.md.
"""

from __future__ import annotations

import importlib
import os
import types
import warnings
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from aalbert.config import ConfigError
from aalbert.config_layers import ConfigLayers, load_yaml
from aalbert.errors import AalbertError, MissingFileError

from .s3prl_names import TASK_ALIASES, s3prl_task

if TYPE_CHECKING:
    from .expert import Expert

ENTRY_POINT_GROUP = "aalbert.downstream"
_BUILTIN_PACKAGE = "aalbert.downstream"
CONFIG_NAME = "config.yaml"
EXPERT_KEY = "expert"  # in a task config: the shared expert it uses, as module:Class
EXTENDS_KEY = "extends"  # in a task config: the base config it extends, relative to the file


class UnknownTaskError(AalbertError):
    """A task name that no built-in task, plugin or task folder provides."""


class TaskNameClashWarning(UserWarning):
    """Two providers of one task name: which one is used, and which is ignored."""


@dataclass
class MergedTaskConfig:
    """A task config with its bases merged in."""

    layers: ConfigLayers  # the sections (runner, optimizer, featurizer, data, model), and which file set each key
    expert: object = None  # module:Class, when the config (or a base) names the expert
    expert_file: Path | None = None  # the file that names it (None: no file does)
    files: list[Path] = field(default_factory=list)  # the config, then its bases

    @property
    def values(self) -> dict:
        return self.layers.data


def load_task_config(path: str | Path) -> MergedTaskConfig:
    """Read a task config and the chain of configs it extends; a missing or looping base is a
    ConfigError naming the file that asks for it."""
    config = MergedTaskConfig(ConfigLayers(str(path)))
    _read_config(Path(path), config)
    return config


def _read_config(path: Path, into: MergedTaskConfig) -> None:
    """Merge ``path`` into ``into.layers`` over the bases it extends (read first)."""
    resolved = path.resolve()
    if resolved in [f.resolve() for f in into.files]:
        chain = " -> ".join(str(f) for f in [*into.files, path])
        raise ConfigError(f"{into.files[-1]}: {EXTENDS_KEY} makes a loop: {chain}")
    into.files.append(path)
    data = load_yaml(path)
    base = data.pop(EXTENDS_KEY, None)
    if EXPERT_KEY in data:
        expert = data.pop(EXPERT_KEY)
        if into.expert_file is None:  # the config's own choice wins over a base's
            into.expert, into.expert_file = expert, path
    if base is None:
        into.layers.add(data, str(path))
        return
    if not isinstance(base, str) or not base.strip():
        raise ConfigError(
            f"{path}: {EXTENDS_KEY} must be the path of a base config relative to this file, got {base!r}"
        )
    base_path = Path(os.path.normpath(path.parent / base))
    if not base_path.is_file():
        raise ConfigError(f"{path}: {EXTENDS_KEY}: {base}: no such file ({base_path})")
    _read_config(base_path, into)
    into.layers.add(data, str(path))


@dataclass
class Task:
    name: str
    expert_class: type[Expert]
    default_config: Path
    source: str  # "builtin" or the distribution / entry point that provided it
    package: str = "aalbert"  # the distribution that provides the task
    version: str = ""  # its version (results.json records both)

    def defaults(self) -> dict:
        """The task's default settings: its config.yaml with its bases, without the expert's name."""
        return load_task_config(self.default_config).values

    def default_layers(self) -> ConfigLayers:
        """The same, remembering which file (config.yaml or a base) set each key: what a config starts from."""
        return load_task_config(self.default_config).layers

    @property
    def config_files(self) -> list[Path]:
        """config.yaml and the bases it extends: what the defaults are read from."""
        return load_task_config(self.default_config).files


def _package_of(ep: metadata.EntryPoint) -> tuple[str, str]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return "unknown package", ""
    return dist.metadata["Name"] or dist.name, dist.version


def _builtin_root() -> Path:
    return Path(str(resources.files(_BUILTIN_PACKAGE)))


def builtin_tasks() -> list[str]:
    return sorted(p.name for p in _builtin_root().iterdir() if p.is_dir() and (p / CONFIG_NAME).is_file())


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
            warnings.warn(
                f"downstream task {name!r} is provided by several plugin packages: {', '.join(packages)}; "
                f"using {packages[0]}",
                TaskNameClashWarning,
                stacklevel=2,
            )
    return {name: eps[0] for name, eps in by_name.items()}


def _warn_if_shadowed(name: str, plugins: dict[str, metadata.EntryPoint]) -> None:
    if name in plugins:
        ep = plugins[name]
        warnings.warn(
            f"plugin task {name!r} of package {_package_of(ep)[0]} ({ep.value}) is shadowed by the "
            f"built-in task {name!r} of package aalbert; rename the plugin's entry point to use it",
            TaskNameClashWarning,
            stacklevel=3,
        )


def available_tasks() -> list[str]:
    builtin = builtin_tasks()
    plugins = plugin_entry_points()
    for name in builtin:
        _warn_if_shadowed(name, plugins)
    return sorted(set(builtin) | set(plugins))


def load_task(name: str) -> Task:
    """The task called ``name`` (or by s3prl's name for it: aalbert.downstream.s3prl_names);
    ``UnknownTaskError`` listing the known ones otherwise."""
    plugins = plugin_entry_points()
    alias = s3prl_task(name) if name not in plugins else None
    if alias is not None:
        name = alias.task
    if name in builtin_tasks():
        _warn_if_shadowed(name, plugins)
        folder = _builtin_root() / name
        module = (
            importlib.import_module(f"{_BUILTIN_PACKAGE}.{name}.expert") if (folder / "expert.py").is_file() else None
        )
        return _make_task(name, module, folder / CONFIG_NAME, "builtin", ("aalbert", _aalbert_version()))
    if name in plugins:
        ep = plugins[name]
        loaded = ep.load()
        if not isinstance(loaded, types.ModuleType):
            raise TypeError(
                f"plugin task {name} ({ep.value}) must point at a module holding Expert and "
                f"config.yaml, got {type(loaded).__name__}"
            )
        default_config = getattr(loaded, "DEFAULT_CONFIG", None)
        if default_config:
            config = Path(default_config)
        elif loaded.__file__ is not None:
            config = Path(loaded.__file__).parent / CONFIG_NAME
        else:
            raise TypeError(
                f"plugin task {name} ({ep.value}) is a namespace package, so it has no folder to find "
                f"{CONFIG_NAME} in; give it an __init__.py, or set DEFAULT_CONFIG in it"
            )
        return _make_task(name, loaded, config, f"plugin {ep.value}", _package_of(ep))
    raise UnknownTaskError(
        f"unknown downstream task {name!r}; known tasks: {', '.join(available_tasks())} (and s3prl's names "
        f"for some of them: {', '.join(sorted(TASK_ALIASES))}; --list-tasks says which)"
    )


def _aalbert_version() -> str:
    from aalbert.experiment import version

    return version()


def _make_task(
    name: str, module: types.ModuleType | None, config_path: Path, source: str, package: tuple[str, str]
) -> Task:
    """The task of ``config_path``; its expert is ``module.Expert`` or the one the config names."""
    from .expert import Expert  # late: keeps `available_tasks` import-light

    if not config_path.is_file():
        where = module.__name__ if module is not None else str(config_path.parent)
        raise MissingFileError(f"task {name} ({where}) has no default config at {config_path}")
    config = load_task_config(config_path)
    expert = getattr(module, "Expert", None) if module is not None else None
    if module is not None and expert is not None and config.expert_file is not None:
        raise ConfigError(
            f"{config.expert_file}: task {name} has its own Expert ({module.__name__}); remove "
            f"'{EXPERT_KEY}: {config.expert}' or the module's Expert"
        )
    if config.expert_file is not None:
        expert = expert_from_spec(config.expert, config.expert_file)
    elif not (isinstance(expert, type) and issubclass(expert, Expert)):
        where = f" ({module.__name__})" if module is not None else ""
        raise TypeError(
            f"task {name}{where} has no Expert class derived from aalbert.downstream.expert.Expert; "
            f"give it an expert.py with one, or name a shared one in {config_path} "
            f"('{EXPERT_KEY}: module:Class')"
        )
    return Task(name, expert, config_path, source, *package)


def expert_from_spec(spec: object, where: Path) -> type[Expert]:
    """The expert class a config names as ``module:Class``; a ConfigError naming ``where`` otherwise."""
    from .expert import Expert

    module_name, _, attr = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    if not module_name or not attr:
        raise ConfigError(
            f"{where}: {EXPERT_KEY} must name the expert class as module:Class (e.g. "
            f"aalbert.downstream.frame_classifier:FrameClassifierExpert), got {spec!r}"
        )
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name is None or not module_name.startswith(err.name):
            raise  # the module exists but an import inside it failed: its own traceback says why
        raise ConfigError(f"{where}: {EXPERT_KEY}: {spec}: there is no module {module_name}") from err
    expert = getattr(module, attr, None)
    if expert is None:
        raise ConfigError(f"{where}: {EXPERT_KEY}: {spec}: module {module_name} has no {attr}")
    if not (isinstance(expert, type) and issubclass(expert, Expert)):
        raise ConfigError(f"{where}: {EXPERT_KEY}: {spec} is not a subclass of aalbert.downstream.expert.Expert")
    return expert
