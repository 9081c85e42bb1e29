"""Typed dataclass configs loaded from YAML, with ``-o key=value`` overrides.

Every recipe in this project is a (possibly nested) dataclass. ``load_config`` reads a YAML
file into it, applies dotted overrides such as ``-o optim.lr=1e-4`` and checks every value
against the field's type, so a typo or a wrong type is an error naming the key, never a
silently ignored setting (no string booleans: ``true``/``false`` are YAML booleans).

A dataclass that renamed a key lists it in a ``RENAMED_KEYS`` class attribute (old -> new
name). A YAML file or override that still uses the old name is an error naming the new one;
``upgrade_renamed_keys`` reads what this toolkit wrote before the rename (saved configs,
checkpoints) under the new names.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
import re
import types
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml

from aalbert.errors import AalbertError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type of any dataclass, for the checker only
T = TypeVar("T", bound="DataclassInstance")

_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


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
            node = nested
            keys = key.split(".")
            for k in keys[:-1]:
                node = node.setdefault(k, {})
                if not isinstance(node, dict):
                    raise ConfigError(f"override {part!r} conflicts with another override")
            node[keys[-1]] = value
    return nested


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


def load_config(
    cls: type[T], path: str | Path | None = None, overrides: Iterable[str] | None = None, base: dict | None = None
) -> T:
    """Build ``cls`` from defaults <- ``base`` <- YAML file at ``path`` <- ``overrides``."""
    data = dict(base or {})
    where = "config"
    if path is not None:
        resolved = find_recipe(path)
        data = merge_dicts(data, load_yaml(resolved))
        where = str(resolved)
    data = merge_dicts(data, parse_overrides(overrides))
    return from_dict(cls, data, where=where)


def from_dict(cls: type[T], data: dict | None, where: str = "config", key: str = "") -> T:
    """Build dataclass ``cls`` from a plain dict, checking keys and types.

    ``key``: where ``data`` sits in the whole config, dotted (``model``), for the messages."""
    data = {} if data is None else data
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping for {cls.__name__}, got {data!r}")
    refuse_renamed_keys(cls, data, where, key)
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key(s) {', '.join(unknown)} for {cls.__name__}; known keys: {', '.join(sorted(fields))}"
        )
    kwargs = {name: _coerce(hints[name], value, f"{where}: {name}", _dotted(key, name)) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err


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


def _expect(value: Any, accepted: tuple[type, ...], wanted: str, where: str) -> None:
    # a bool is an int to Python, but never a number in a config
    if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
        raise ConfigError(f"{where}: expected {wanted}, got {value!r}")


_WANTED = {bool: "true or false", int: "an integer", str: "a string"}


def _coerce(tp: Any, value: Any, where: str, key: str = "") -> Any:
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
                return _coerce(arg, value, where, key)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where=where, key=key)
    if origin in (list, tuple):
        _expect(value, (list, tuple), "a list", where)
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, f"{where}[{i}]", f"{key}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        _expect(value, (dict,), "a mapping", where)
        return dict(value)
    if tp in _WANTED:
        _expect(value, (tp,), _WANTED[tp], where)
        return value
    if tp is float:
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            # PyYAML follows YAML 1.1, which reads 2e-3 (no dot) as a string, not a number
            value = float(value)
        _expect(value, (int, float), "a number", where)
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    return value


def to_dict(cfg: Any) -> dict:
    """A dataclass config as plain YAML-able data."""
    return dataclasses.asdict(cfg)


def save_config(cfg: Any, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(to_dict(cfg), f, sort_keys=False)
