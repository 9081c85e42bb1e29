"""A config's layers, and where each of its values came from: recipes, YAML files, ``-o``, flags.

A config is built from a few layers, each over the one before: a task's defaults (downstream:
its ``config.yaml`` and the bases it extends), the ``-c`` file (a recipe: :func:`find_recipe`),
then each ``-o key=value`` override (s3prl's ``,,`` and ``config.`` too); a command's flags
(``--seed``, ``-s``/``-l``, ``--data``...: :data:`Flags`) then set typed fields directly.
:class:`ConfigLayers` merges the layers and remembers which one set each dotted key, so every
error names where the bad value came from: the file, the ``-o KEY=VALUE`` or the flag.
:func:`load_config` builds a dataclass that way; :func:`setting_name` spells a key as the running
command sets it (the key, or a flag).

Checking each value against its dataclass field (and the errors' wording): aalbert.config.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import types
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from aalbert.config import ConfigError, from_dict, set_fields

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type of any dataclass, for the checker only
T = TypeVar("T", bound="DataclassInstance")

_INDEX = re.compile(r"\[\d+\]")  # a list item in a dotted key: layers[0]

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
OVERRIDE = "-o"  # how an override's layer is named: "-o KEY=VALUE"

Flags = Mapping[str, Mapping[str, Any]]
"""Command-line flags that set config fields: each flag as given (``"--seed 3"``, ``"-s last"``)
-> the dotted keys it sets and their typed values (``{"seed": 3}``)."""


def find_recipe(name: str | Path) -> Path:
    """Resolve a recipe given as a path, or as a name relative to ``config/``.

    ``config/pretrain/tiny_aalbert.yaml``, ``pretrain/tiny_aalbert.yaml`` and
    ``pretrain/tiny_aalbert`` all work, from a checkout or from an installed package.
    """
    path = Path(name)
    if path.is_file():
        return path
    rel = Path(*path.parts[1:]) if path.parts and path.parts[0] == "config" else path
    candidates = [rel, rel.with_suffix(".yaml")] if rel.suffix != ".yaml" else [rel]
    for base in _recipe_dirs():
        for cand in candidates:
            if (base / cand).is_file():
                return base / cand
    raise ConfigError(f"config file not found: {name} (looked in ., {', '.join(map(str, _recipe_dirs()))})")


def _recipe_dirs() -> list[Path]:
    """config/ of a checkout, then the recipes shipped in the package (``aalbert.recipes``).

    ``aalbert.recipes`` is a namespace package (YAML only, no __init__.py), whose
    ``importlib.resources`` view is a MultiplexedPath: its folders are read from the module
    spec instead.
    """
    dirs = [REPO_CONFIG_DIR] if REPO_CONFIG_DIR.is_dir() else []
    try:
        spec = importlib.util.find_spec("aalbert.recipes")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        folder = Path(location)
        if folder.is_dir() and folder.resolve() not in [d.resolve() for d in dirs]:
            dirs.append(folder)
    return dirs


def load_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as f:
            data = yaml.safe_load(f)
    except OSError as err:
        raise ConfigError(f"cannot read config {path}: {err}") from err
    except yaml.YAMLError as err:
        raise ConfigError(f"config {path} is not valid YAML: {_yaml_problem(err)}") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must hold a mapping at the top level, not {type(data).__name__}")
    return data


def _yaml_problem(err: yaml.YAMLError) -> str:
    """PyYAML's multi-line message as one line: the problem and where."""
    problem = getattr(err, "problem", None) or str(err).strip().splitlines()[0]
    mark = getattr(err, "problem_mark", None)
    return f"{problem} (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else problem


def parse_overrides(overrides: Iterable[str] | None) -> dict:
    """``["optimizer.lr=1e-4", "model.num_hidden_layers=6"]`` -> nested dict. Values are parsed as YAML."""
    nested: dict = {}
    for part, key, value in _override_parts(overrides):
        node = nested
        keys = key.split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {part!r} conflicts with another override")
        node[keys[-1]] = value
    return nested


def _override_parts(overrides: Iterable[str] | None) -> list[tuple[str, str, Any]]:
    """Each ``key=value`` of ``overrides`` as (the part as given, its dotted key, its YAML value)."""
    parts = []
    for item in overrides or ():
        # s3prl passes several overrides in one -o, separated by ",," (older: ","); accept all forms
        for part in (p for chunk in item.split(",,") for p in _split_commas(chunk)):
            if "=" not in part:
                raise ConfigError(f"override {part!r} must look like key=value")
            key, raw = part.split("=", 1)
            key = key.strip().removeprefix("config.")
            if not key:
                raise ConfigError(f"override {part!r} has an empty key")
            try:
                value = yaml.safe_load(raw) if raw.strip() else None
            except yaml.YAMLError as err:
                reason = _yaml_problem(err)
                raise ConfigError(f"override {key}: value {raw!r} is not a plain YAML value ({reason})") from err
            parts.append((part, key, value))
    return parts


def _override_source(part: str) -> str:
    """How an error names an override: ``-o KEY=VALUE`` (``config.`` left off the key, as it is read)."""
    key, raw = part.split("=", 1)
    return f"{OVERRIDE} {key.strip().removeprefix('config.')}={raw.strip()}"


def _split_commas(item: str) -> list[str]:
    # split "a=1,b.c=[1,2]" on commas that start a new key=value, not inside brackets
    parts, depth, current = [], 0, ""
    for ch in item:
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            depth -= 1
        if ch == "," and depth == 0 and "=" in current:
            parts.append(current)
            current = ""
            continue
        current += ch
    if current:
        parts.append(current)
    return [p.strip() for p in parts if p.strip()]


class ConfigLayers:
    """A config's values merged layer over layer (a task's defaults and the bases they extend,
    ``-c``, each ``-o``), remembering which layer set each dotted key: an error about a value
    names the file or the ``-o KEY=VALUE`` it came from.

    ``default``: what an error names for a value no layer set (the dataclass's own default)."""

    def __init__(self, default: str = "config") -> None:
        self.data: dict = {}
        self.origins: dict[str, str] = {}  # the dotted key of every value a layer set -> that layer
        self.default = default

    def copy(self) -> ConfigLayers:
        out = ConfigLayers(self.default)
        out.data, out.origins = self.data, dict(self.origins)  # merging builds new dicts: data is never changed
        return out

    def add(self, values: Mapping, source: str) -> ConfigLayers:
        """Merge ``values`` (a nested mapping) over what is there, section by section; ``source``
        names them (a file's path, ``-o KEY=VALUE``)."""
        self.data = self._merge(self.data, values, "", source)
        return self

    def add_file(self, path: str | Path) -> ConfigLayers:
        return self.add(load_yaml(path), str(path))

    def add_overrides(
        self, overrides: Iterable[str] | None, rename: Callable[[str], str] | None = None
    ) -> ConfigLayers:
        """Each ``key=value`` of ``overrides`` (``-o``) as a layer of its own, named ``-o KEY=VALUE`` as
        given; ``rename`` reads a key under our name (s3prl's ``downstream_expert.modelrc.X`` -> ``model.X``),
        a ConfigError from it is the override's error."""
        overrides = list(overrides or ())
        parse_overrides(overrides)  # an override that conflicts with another is an error
        for part, key, value in _override_parts(overrides):
            if rename is not None:
                try:
                    key = rename(key)
                except ConfigError as err:
                    raise ConfigError(f"{_override_source(part)}: {err}") from None
            nested: Any = value
            for k in reversed(key.split(".")):
                nested = {k: nested}
            self.add(nested, _override_source(part))
        return self

    def _merge(self, base: dict, update: Mapping, prefix: str, source: str) -> dict:
        out = dict(base)
        for name, value in update.items():
            key = f"{prefix}.{name}" if prefix else str(name)
            if isinstance(value, dict) and isinstance(out.get(name), dict):
                out[name] = self._merge(out[name], value, key, source)
                continue
            self._forget(key)
            if isinstance(value, dict) and value:
                out[name] = self._merge({}, value, key, source)
            else:
                out[name] = value
                self.origins[key] = source
        return out

    def _forget(self, key: str) -> None:
        for k in [k for k in self.origins if k == key or k.startswith((f"{key}.", f"{key}["))]:
            del self.origins[k]

    def set_by(self, key: str) -> list[str]:
        """The layers that set ``key`` or keys under it, else the one that set a value holding it
        (none: only the dataclass's default is there)."""
        key = _INDEX.sub("", key)
        found = [src for k, src in self.origins.items() if not key or k == key or k.startswith(f"{key}.")]
        while not found and "." in key:
            key = key.rsplit(".", 1)[0]
            found = [self.origins[key]] if key in self.origins else []
        return list(dict.fromkeys(found))

    def sources(self, keys: Iterable[str]) -> str:
        """What an error about ``keys`` names: the layers that set them, else ``default``."""
        found = list(dict.fromkeys(src for key in keys for src in self.set_by(key)))
        return ", ".join(found) if found else self.default

    def build(self, cls: type[T], flags: Flags | None = None) -> T:
        """``cls`` from these layers, then ``flags`` set their fields (:func:`set_fields`). A flag
        and an ``-o`` that set one key are an error: which should win is not for the loader to guess."""
        cfg = from_dict(cls, self.data, where=self.default, origins=self)
        for flag, values in (flags or {}).items():
            for key in values:
                overrides = [src for src in self.set_by(key) if src.startswith(f"{OVERRIDE} ")]
                if overrides:
                    raise ConfigError(f"{flag} and {', '.join(overrides)} both set {key}: give one of them")
            cfg = set_fields(cfg, values, flag)
        return cfg


def load_config(
    cls: type[T],
    path: str | Path | None = None,
    overrides: Iterable[str] | None = None,
    base: ConfigLayers | None = None,
    flags: Flags | None = None,
) -> T:
    """Build ``cls`` from its defaults <- ``base`` <- the YAML file at ``path`` (a recipe: a path,
    or a name under ``config/``) <- each of ``overrides``; then ``flags`` set typed fields. An error
    names the file, the ``-o KEY=VALUE`` or the flag that gave the bad value."""
    if path is not None:
        resolved = find_recipe(path)
        layers = base.copy() if base is not None else ConfigLayers(str(resolved))
        layers.add_file(resolved)
    else:
        layers = base.copy() if base is not None else ConfigLayers()
    return layers.add_overrides(overrides).build(cls, flags)


_SPELLINGS: ContextVar[Mapping[str, str]] = ContextVar("aalbert_setting_spellings", default=types.MappingProxyType({}))


def setting_name(key: str) -> str:
    """How the running command sets the dotted config key ``key``, for messages that ask the user
    to set it: the key itself (a recipe's key, or ``-o KEY=...``), or the flag of a command that has
    flags instead of a config (``aalbert probe``: ``--alignment`` for ``data.alignment``)."""
    return _SPELLINGS.get().get(key, key)


@contextlib.contextmanager
def settings_spelled(names: Mapping[str, str]) -> Iterator[None]:
    """While it lasts, :func:`setting_name` spells the keys of ``names`` as their values (flags)."""
    token = _SPELLINGS.set(types.MappingProxyType({**_SPELLINGS.get(), **names}))
    try:
        yield
    finally:
        _SPELLINGS.reset(token)
