"""Typed dataclass configs loaded from YAML, with ``-o key=value`` overrides and flags.

Every recipe in this project is a (possibly nested) dataclass, built from a few layers, each
over the one before: a task's defaults (downstream: its ``config.yaml`` and the bases it
extends), the ``-c`` file, then each ``-o key=value`` override; a command's flags (``--seed``,
``-s``/``-l``, ``--data``...) then set typed fields directly. :class:`ConfigLayers` merges the
layers and remembers which one set each dotted key, so every error names where the bad value
came from: the file, the ``-o KEY=VALUE`` or the flag. Every value is checked against its
field's type, so a typo or a wrong type is an error naming the key, never a silently ignored
setting (no string booleans: ``true``/``false`` are YAML booleans).

A dataclass that renamed a key lists it in a ``RENAMED_KEYS`` class attribute (old -> new
name). A YAML file or override that still uses the old name is an error naming the new one;
``upgrade_renamed_keys`` reads what this toolkit wrote before the rename (saved configs,
checkpoints) under the new names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import math
import re
import types
import typing
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from aalbert.errors import AalbertError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type of any dataclass, for the checker only
T = TypeVar("T", bound="DataclassInstance")

_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")
_INDEX = re.compile(r"\[\d+\]")  # a list item in a dotted key: layers[0]

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
OVERRIDE = "-o"  # how an override's layer is named: "-o KEY=VALUE"

Flags = Mapping[str, Mapping[str, Any]]
"""Command-line flags that set config fields: each flag as given (``"--seed 3"``, ``"-s last"``)
-> the dotted keys it sets and their typed values (``{"seed": 3}``)."""


class ConfigError(AalbertError, ValueError):
    """A config file or override that does not fit its dataclass."""


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
    """``["optim.lr=1e-4", "model.num_layers=6"]`` -> nested dict. Values are parsed as YAML."""
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


def merge_dicts(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = value
    return out


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

    def add_overrides(self, overrides: Iterable[str] | None) -> ConfigLayers:
        """Each ``key=value`` of ``overrides`` (``-o``) as a layer of its own, named ``-o KEY=VALUE``."""
        overrides = list(overrides or ())
        parse_overrides(overrides)  # an override that conflicts with another is an error
        for part, key, value in _override_parts(overrides):
            nested: Any = value
            for k in reversed(key.split(".")):
                nested = {k: nested}
            self.add(nested, _override_source(part))
        return self

    def _merge(self, base: dict, update: Mapping, prefix: str, source: str) -> dict:
        out = dict(base)
        for name, value in update.items():
            key = _dotted(prefix, str(name))
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


def from_dict(
    cls: type[T], data: dict | None, where: str = "config", key: str = "", origins: ConfigLayers | None = None
) -> T:
    """Build dataclass ``cls`` from a plain dict, checking keys and types.

    ``key``: where ``data`` sits in the whole config, dotted (``model``), for the messages.
    ``origins``: the layers ``data`` was merged from: an error names the one that set the bad
    value; without them (or for a value none of them set) it names ``where``."""
    blame = origins if origins is not None else ConfigLayers(where)
    data = {} if data is None else data
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise _error(blame, [key], key, f"expected a mapping for {cls.__name__}, got {data!r}")
    renamed = [_dotted(key, old) for old in _renamed(cls) if old in data]
    if renamed:
        refuse_renamed_keys(cls, data, _where(blame, renamed, key), key)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(str(name) for name in data if name not in fields)
    if unknown:
        raise _error(
            blame,
            [_dotted(key, name) for name in unknown],
            key,
            f"unknown key(s) {', '.join(unknown)} for {cls.__name__}; known keys: {', '.join(sorted(fields))}",
        )
    kwargs = {name: _coerce(hints[name], value, blame, _dotted(key, name)) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError, AalbertError) as err:
        culprits = blamed_fields(cls, kwargs, err) or list(kwargs)
        raise _error(blame, [_dotted(key, name) for name in culprits] or [key], key, str(err)) from err


def blamed_fields(cls: type, kwargs: Mapping[str, Any], err: Exception) -> list[str]:
    """The fields of ``kwargs`` that ``cls(**kwargs)`` refused with ``err`` (its ``__post_init__``):
    those that alone, put back to their default, make it build; else those its message names."""
    defaults = {}
    for f in dataclasses.fields(cls):
        if f.name in kwargs and f.default is not dataclasses.MISSING:
            defaults[f.name] = f.default
        elif f.name in kwargs and f.default_factory is not dataclasses.MISSING:
            defaults[f.name] = f.default_factory()
    culprits = []
    for name, default in defaults.items():
        try:
            cls(**{**kwargs, name: default})
        except Exception:  # noqa: BLE001 - still refused: not this field alone
            continue
        culprits.append(name)
    return culprits or [name for name in kwargs if re.search(rf"\b{re.escape(name)}\b", str(err))]


def set_fields(cfg: T, values: Mapping[str, Any], source: str) -> T:
    """``cfg`` with the dotted keys of ``values`` set to them, as a flag sets them: checked as a
    file's values are (each field's type, the dataclasses' own checks), and an error names
    ``source`` (the flag, as given: ``--label-fraction 5.0: ...``)."""
    nested: dict = {}
    for key, value in values.items():
        node = nested
        *parents, name = key.split(".")
        for parent in parents:
            node = node.setdefault(parent, {})
        node[name] = value
    return _replaced(cfg, nested, ConfigLayers(source), "")


def _replaced(obj: Any, changes: dict, blame: ConfigLayers, key: str) -> Any:
    hints = typing.get_type_hints(type(obj))
    fields = {f.name for f in dataclasses.fields(obj) if f.init}
    kwargs = {}
    for name, value in changes.items():
        at = _dotted(key, name)
        if name not in fields:
            raise _error(blame, [at], key, f"unknown key {name} for {type(obj).__name__}")
        current = getattr(obj, name)
        if isinstance(value, dict) and dataclasses.is_dataclass(current) and not isinstance(current, type):
            kwargs[name] = _replaced(current, value, blame, at)
        elif isinstance(value, dict) and isinstance(current, dict):
            kwargs[name] = _coerce(hints[name], merge_dicts(current, value), blame, at)
        else:
            kwargs[name] = _coerce(hints[name], value, blame, at)
    try:
        return dataclasses.replace(obj, **kwargs)
    except (TypeError, ValueError, AalbertError) as err:
        raise _error(blame, [key], key, str(err)) from err


def _where(blame: ConfigLayers, keys: Iterable[str], at: str) -> str:
    """``SOURCE: SECTION``: the layers that set ``keys``, then where in the config (``optim: steps``)."""
    section = at.replace(".", ": ")
    return f"{blame.sources(keys)}: {section}" if section else blame.sources(keys)


def _error(blame: ConfigLayers, keys: Iterable[str], at: str, problem: str) -> ConfigError:
    return ConfigError(f"{_where(blame, keys, at)}: {problem}")


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


def _dotted(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _renamed(cls: Any) -> dict[str, str]:
    return dict(getattr(cls, "RENAMED_KEYS", {}))


def refuse_renamed_keys(cls: type, keys: Iterable[str], where: str = "config", key: str = "") -> None:
    """A ConfigError naming the new name when ``keys`` (given for dataclass ``cls``) use an old one."""
    for old, new in _renamed(cls).items():
        if old in keys:
            raise ConfigError(
                f"{where}: {_dotted(key, old)} was renamed to {_dotted(key, new)}; use {_dotted(key, new)} instead"
            )


def upgrade_renamed_keys(cls: type, data: Any, where: str = "config", key: str = "") -> Any:
    """``data`` for dataclass ``cls`` as an older version of this toolkit wrote it (a saved config,
    a checkpoint's config), with renamed keys under their new names, nested dataclasses included.

    The only way old names are accepted: call it where such data is read back, before ``from_dict``.
    """
    if not isinstance(data, dict) or not dataclasses.is_dataclass(cls):
        return data
    renamed, hints = _renamed(cls), typing.get_type_hints(cls)
    out = {}
    for name, value in data.items():
        new = renamed[name] if name in renamed else name
        if new != name and new in data:
            raise ConfigError(f"{where}: both {_dotted(key, name)} and its new name {_dotted(key, new)} are set")
        inner = _dataclass_in(hints.get(new))
        out[new] = upgrade_renamed_keys(inner, value, f"{where}: {new}", _dotted(key, new)) if inner else value
    return out


def _dataclass_in(tp: Any) -> type | None:
    """The dataclass a field of type ``tp`` holds (``X`` or ``X | None``), else None."""
    candidates = typing.get_args(tp) if typing.get_origin(tp) in (typing.Union, types.UnionType) else (tp,)
    return next((c for c in candidates if isinstance(c, type) and dataclasses.is_dataclass(c)), None)


def _expect(value: Any, accepted: tuple[type, ...], wanted: str, blame: ConfigLayers, key: str) -> None:
    # a bool is an int to Python, but never a number in a config
    if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
        raise _error(blame, [key], key, f"expected {wanted}, got {value!r}")


_WANTED = {bool: "true or false", int: "an integer", str: "a string"}


def _coerce(tp: Any, value: Any, blame: ConfigLayers, key: str) -> Any:
    """``value`` checked against the type ``tp`` of the field at dotted ``key`` (nested dataclasses built)."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, blame, key)
            except ConfigError as err:
                errors.append(err)
        if len(errors) == 1:
            raise errors[0]
        raise _error(blame, [key], key, f"{value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise _error(blame, [key], key, f"{value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value, key=key, origins=blame)
    if origin in (list, tuple):
        _expect(value, (list, tuple), "a list", blame, key)
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, blame, f"{key}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        _expect(value, (dict,), "a mapping", blame, key)
        return dict(value)
    if tp in _WANTED:
        _expect(value, (tp,), _WANTED[tp], blame, key)
        return value
    if tp is float:
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            # PyYAML follows YAML 1.1, which reads 2e-3 (no dot) as a string, not a number
            value = float(value)
        _expect(value, (int, float), "a number", blame, key)
        if not math.isfinite(value):
            raise _error(blame, [key], key, f"expected a finite number, got {value!r}")
        return float(value)
    return value


def to_dict(cfg: Any) -> dict:
    """A dataclass config as plain YAML-able data."""
    return dataclasses.asdict(cfg)


def save_config(cfg: Any, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(to_dict(cfg), f, sort_keys=False)
