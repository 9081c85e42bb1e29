"""Hub entry points and the upstream registry.

Built-in names: ``mockingjay`` (= ``mockingjay_12l``, like s3prl's default ``mockingjay``, the
360 h LinearLarge model), ``aalbert`` (= ``aalbert_3l``, like s3prl's default ``audio_albert``,
the 960 h logMelBase model), the explicit sizes ``mockingjay_3l/6l/12l`` and
``aalbert_3l/6l/12l``, ``mockingjay_local`` / ``aalbert_local`` (any s3prl-format checkpoint:
the weight sharing comes from the file) and ``fbank`` (parameter-free log-mel baseline).
Nothing is ever downloaded: the non-local entries build randomly initialised models.
Plugins add factories under the entry-point group ``aalbert.upstream``.

``python -m aalbert.hub list`` (or ``aalbert-hub list``) prints every entry with its size.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

from torch import nn

from aalbert.upstream import factory
from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.fbank import FbankUpstream

ENTRY_POINT_GROUP = "aalbert.upstream"

mockingjay_3l = factory.mockingjay_3l
mockingjay_6l = factory.mockingjay_6l
mockingjay_12l = factory.mockingjay_12l
aalbert_3l = factory.aalbert_3l
aalbert_6l = factory.aalbert_6l
aalbert_12l = factory.aalbert_12l


def mockingjay(**kwargs) -> nn.Module:
    """Mockingjay-12L (s3prl's default mockingjay size), random weights, nothing downloaded."""
    return factory.mockingjay_12l(**kwargs)


def aalbert(**kwargs) -> nn.Module:
    """Audio ALBERT-3L (s3prl's default audio_albert size), random weights, nothing downloaded."""
    return factory.aalbert_3l(**kwargs)


def _local(ckpt: str | Path | None, allow_unsafe_pickle: bool, name: str) -> nn.Module:
    if ckpt is None:
        raise ValueError(f"{name} needs ckpt=<path to an s3prl-format checkpoint>")
    return upstream_from_checkpoint(ckpt, allow_unsafe_pickle=allow_unsafe_pickle)


def mockingjay_local(ckpt: str | Path | None = None, allow_unsafe_pickle: bool = False) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint (loaded weights-only); sharing comes from the file."""
    return _local(ckpt, allow_unsafe_pickle, "mockingjay_local")


def aalbert_local(ckpt: str | Path | None = None, allow_unsafe_pickle: bool = False) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint (loaded weights-only); sharing comes from the file."""
    return _local(ckpt, allow_unsafe_pickle, "aalbert_local")


def fbank(**kwargs) -> nn.Module:
    """Parameter-free 80-dim log-mel (CMVN) baseline: hidden_states = [fbank], num_layers = 0."""
    return FbankUpstream(**kwargs)


BUILTIN: dict[str, Callable[..., nn.Module]] = {
    "mockingjay": mockingjay, "aalbert": aalbert,
    "mockingjay_3l": mockingjay_3l, "mockingjay_6l": mockingjay_6l, "mockingjay_12l": mockingjay_12l,
    "aalbert_3l": aalbert_3l, "aalbert_6l": aalbert_6l, "aalbert_12l": aalbert_12l,
    "mockingjay_local": mockingjay_local, "aalbert_local": aalbert_local, "fbank": fbank,
}
LOCAL = ("mockingjay_local", "aalbert_local")


def _plugins() -> dict[str, Callable[..., nn.Module]]:
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN:
            warnings.warn(f"plugin upstream {ep.name!r} ({ep.value}) is shadowed by the built-in of that name",
                          stacklevel=3)
            continue
        found[ep.name] = ep
    return found


def available_upstreams() -> list[str]:
    return sorted(BUILTIN) + sorted(_plugins())


def load_upstream(name: str, ckpt: str | Path | None = None, **kwargs) -> nn.Module:
    """Build an upstream by hub name; ``ckpt`` is for the ``*_local`` entries (or a plugin taking one)."""
    if name in BUILTIN:
        if name in LOCAL:
            return BUILTIN[name](ckpt=ckpt, **kwargs)
        if ckpt is not None:
            raise ValueError(f"upstream {name!r} builds a random model and takes no ckpt; "
                             f"use mockingjay_local or aalbert_local to load {ckpt}")
        return BUILTIN[name](**kwargs)
    plugins = _plugins()
    if name in plugins:
        builder = plugins[name].load()
        return builder(ckpt=ckpt, **kwargs) if ckpt is not None else builder(**kwargs)
    raise ValueError(f"unknown upstream {name!r}; available: {', '.join(available_upstreams())}")


def describe(model: nn.Module) -> dict:
    params = sum(p.numel() for p in model.parameters())
    encoder = getattr(model, "encoder", None)
    return {"layers": model.num_layers, "hidden": model.hidden_size, "stacking": getattr(model, "stacking", 1),
            "encoder_params": sum(p.numel() for p in encoder.parameters()) if encoder is not None else 0,
            "params": params}


def _table(names: list[str]) -> str:
    rows = [("name", "layers", "hidden", "stacking", "encoder params", "total params")]
    for name in names:
        if name in LOCAL:
            rows.append((name, "from ckpt", "from ckpt", "from ckpt", "-", "-"))
            continue
        info = describe(load_upstream(name))
        rows.append((name, str(info["layers"]), str(info["hidden"]), str(info["stacking"]),
                     f"{info['encoder_params']:,}", f"{info['params']:,}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aalbert-hub", description="aalbert upstream hub")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="print every upstream with its layers, hidden size, stacking and parameters")
    args = parser.parse_args(argv)
    if args.command == "list":
        print(_table(available_upstreams()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
