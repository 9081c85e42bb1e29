"""Typed dataclass configs: plain data in, every key and type checked; plain data and YAML out.

Every recipe in this project is a (possibly nested) dataclass. :func:`from_dict` builds one from
a plain dict and checks every value against its field's type, so a typo or a wrong type is an
error naming the key, never a silently ignored setting (no string booleans: ``true``/``false``
are YAML booleans); :func:`set_fields` sets fields as a command's flags do, checked the same way;
:func:`to_dict` and :func:`save_config` write a config back out. An error names where the bad
value came from, as its :class:`Sources` tell (a ``ConfigLayers``: the file, the ``-o KEY=VALUE``
or the flag).

Where the values come from (recipes, YAML files, ``-o`` overrides, flags, merged layer over
layer) and ``load_config``: aalbert.config_layers. Old names of settings are read in one place
only, for the files the previous release wrote: aalbert.previous_release.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import yaml

from aalbert.errors import AalbertError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance  # the type of any dataclass, for the checker only
T = TypeVar("T", bound="DataclassInstance")

_YAML11_FLOAT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


class ConfigError(AalbertError):
    """A config file or override that does not fit its dataclass."""


class Sources(Protocol):
    """What an error names as the origin of the values at some dotted keys (a ``ConfigLayers``)."""

    def sources(self, keys: Iterable[str]) -> str: ...


@dataclasses.dataclass(frozen=True)
class _Named:
    """Sources that name one place for every key (no layers known): ``where``."""

    where: str

    def sources(self, keys: Iterable[str]) -> str:
        return self.where


def merge_dicts(base: dict, update: dict) -> dict:
    out = dict(base)
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_dicts(out[key], value)
        else:
            out[key] = value
    return out


def from_dict(
    cls: type[T], data: dict | None, where: str = "config", key: str = "", origins: Sources | None = None
) -> T:
    """Build dataclass ``cls`` from a plain dict, checking keys and types.

    ``key``: where ``data`` sits in the whole config, dotted (``model``), for the messages.
    ``origins``: the layers ``data`` was merged from: an error names the one that set the bad
    value; without them (or for a value none of them set) it names ``where``."""
    blame = origins if origins is not None else _Named(where)
    data = {} if data is None else data
    if isinstance(data, cls):
        return data
    if not isinstance(data, dict):
        raise _error(blame, [key], key, f"expected a mapping for {cls.__name__}, got {data!r}")
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
    return _replaced(cfg, nested, _Named(source), "")


def _replaced(obj: Any, changes: dict, blame: Sources, key: str) -> Any:
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


def _where(blame: Sources, keys: Iterable[str], at: str) -> str:
    """``SOURCE: SECTION``: the layers that set ``keys``, then where in the config (``optim: steps``)."""
    section = at.replace(".", ": ")
    return f"{blame.sources(keys)}: {section}" if section else blame.sources(keys)


def _error(blame: Sources, keys: Iterable[str], at: str, problem: str) -> ConfigError:
    return ConfigError(f"{_where(blame, keys, at)}: {problem}")


def _dotted(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _expect(value: Any, accepted: tuple[type, ...], wanted: str, blame: Sources, key: str) -> None:
    # a bool is an int to Python, but never a number in a config
    if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
        raise _error(blame, [key], key, f"expected {wanted}, got {value!r}")


_WANTED = {bool: "true or false", int: "an integer", str: "a string"}


def _coerce(tp: Any, value: Any, blame: Sources, key: str) -> Any:
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
        value_tp = args[1] if len(args) == 2 else Any  # dict[str, X]: every value checked as an X
        return {name: _coerce(value_tp, v, blame, _dotted(key, str(name))) for name, v in value.items()}
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
