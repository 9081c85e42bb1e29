"""Typed dataclass configs loaded from YAML, with ``-o key=value`` overrides.

Every recipe in this project is a (possibly nested) dataclass. ``load_config`` reads a YAML
file into it, applies dotted overrides such as ``-o optim.lr=1e-4`` and checks every value
against the field's type, so a typo or a wrong type is an error naming the key, never a
silently ignored setting (no string booleans: ``true``/``false`` are YAML booleans).
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
import importlib.util
from pathlib import Path
from typing import Any, Iterable, TypeVar

import yaml

from aalbert.errors import AalbertError

T = TypeVar("T")

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


def load_config(cls: type[T], path: str | Path | None = None, overrides: Iterable[str] | None = None,
                base: dict | None = None) -> T:
    """Build ``cls`` from defaults <- ``base`` <- YAML file at ``path`` <- ``overrides``."""
    data = dict(base or {})
    where = "config"
    if path is not None:
        resolved = find_recipe(path)
        data = merge_dicts(data, load_yaml(resolved))
        where = str(resolved)
    data = merge_dicts(data, parse_overrides(overrides))
    return from_dict(cls, data, where=where)


def from_dict(cls: type[T], data: dict | None, where: str = "config") -> T:
    """Build dataclass ``cls`` from a plain dict, checking keys and types."""
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping for {cls.__name__}, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(unknown)} for {cls.__name__}; "
                          f"known keys: {', '.join(sorted(fields))}")
    kwargs = {name: _coerce(hints[name], value, f"{where}: {name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from err


def _coerce(tp: Any, value: Any, where: str) -> Any:
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
                return _coerce(arg, value, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: {value!r} fits none of {tp}")
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, args))}")
        return value
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where=where)
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_tp = args[0] if args else Any
        items = [_coerce(item_tp, v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if origin is list else tuple(items)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{where}: expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str) and _YAML11_FLOAT.fullmatch(value.strip()):
            # PyYAML follows YAML 1.1, which reads 2e-3 (no dot) as a string, not a number
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f"{where}: expected a finite number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    return value


def to_dict(cfg: Any) -> dict:
    """A dataclass config as plain YAML-able data."""
    return dataclasses.asdict(cfg)


def save_config(cfg: Any, path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        yaml.safe_dump(to_dict(cfg), f, sort_keys=False)
