"""Hub entry points and the upstream registry.

Names mean what they mean in s3prl:

* pretrained (downloaded once into torch's hub cache, see aalbert.upstream.pretrained):
  ``aalbert`` = ``audio_albert`` (the 960 h logMelBase Audio ALBERT, 3 layers sharing one set of
  weights), ``mockingjay`` = ``mockingjay_origin`` (the 360 h logMelLinearLarge, 12 layers), and
  every other published ``audio_albert*`` / ``mockingjay*`` name;
* random weights, said in the name: ``mockingjay_{3,6,12}l_random``, ``aalbert_{3,6,12}l_random``
  (paper sizes: hidden 768, 12 heads, FFN 3072);
* ``*_local(ckpt=PATH)`` and ``*_url(ckpt=URL)``: any s3prl-format checkpoint (the weight
  sharing comes from the file);
* ``fbank``: the parameter-free log-mel baseline.

Plugins add factories under the entry-point group ``aalbert.upstream``.
``python -m aalbert.hub list`` (or ``aalbert-hub list``) prints every entry, and whether a
pretrained one is in the cache.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from aalbert.config import ConfigError
from aalbert.download import cached_download, sha256_of
from aalbert.upstream import factory, pretrained
from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.fbank import FbankUpstream

ENTRY_POINT_GROUP = "aalbert.upstream"
FAMILIES = ("aalbert", "audio_albert", "mockingjay")


def _pretrained_entry(name: str) -> Callable[..., nn.Module]:
    model = pretrained.find_pretrained(name)

    def entry(max_input_length: int | None = None, progress: bool = True, refresh: bool = False) -> nn.Module:
        return pretrained.load_pretrained(name, max_input_length=max_input_length, progress=progress, refresh=refresh)

    entry.__name__ = name
    entry.__doc__ = (f"Pretrained {model.family} {model.name}: {model.describe()}. Downloaded once (~"
                     f"{model.approx_download_mb} MB) into torch.hub.get_dir()/aalbert/; AALBERT_OFFLINE=1 forbids "
                     "downloads. max_input_length=0 forwards long inputs whole instead of in s3prl's pieces.")
    return entry


def _random_entry(build: Callable[..., nn.Module], name: str) -> Callable[..., nn.Module]:
    def entry(**kwargs) -> nn.Module:
        model = build(**kwargs)
        model.name = name
        return model

    entry.__name__ = name
    entry.__doc__ = (build.__doc__ or "") + " Randomly initialised: nothing is downloaded."
    return entry


def _local(ckpt: str | Path | None = None, allow_unsafe_pickle: bool = False,
           max_input_length: int | None = None) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint file (weights-only); the sharing comes from the file."""
    if ckpt is None:
        raise ConfigError("a *_local upstream needs ckpt=<path to an s3prl-format checkpoint>")
    return upstream_from_checkpoint(ckpt, allow_unsafe_pickle=allow_unsafe_pickle, max_input_length=max_input_length)


def _url(ckpt: str | None = None, max_input_length: int | None = None, progress: bool = True,
         refresh: bool = False) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint at a URL, downloaded once into the hub cache."""
    if ckpt is None:
        raise ConfigError("a *_url upstream needs ckpt=<URL of an s3prl-format checkpoint>")
    folder = hashlib.sha256(ckpt.encode()).hexdigest()[:16]
    name = Path(ckpt.split("?")[0]).name or "checkpoint.ckpt"
    path = Path(torch.hub.get_dir()) / "aalbert" / "url" / folder / name
    if refresh:
        path.unlink(missing_ok=True)
    cached_download(ckpt, path, what=f"checkpoint {ckpt}", progress=progress)
    return upstream_from_checkpoint(path, max_input_length=max_input_length)


def fbank(**kwargs) -> nn.Module:
    """Parameter-free 80-dim log-mel baseline: hidden_states = [fbank], num_layers = 0."""
    return FbankUpstream(**kwargs)


def _entries() -> dict[str, tuple[str, Callable[..., nn.Module]]]:
    """name -> (kind, factory); kinds: pretrained, random, local, url, baseline."""
    entries: dict[str, tuple[str, Callable[..., nn.Module]]] = {}
    for name in pretrained.pretrained_names():
        entries[name] = ("pretrained", _pretrained_entry(name))
    for layers in (3, 6, 12):
        for family in ("mockingjay", "aalbert"):
            name = f"{family}_{layers}l_random"
            entries[name] = ("random", _random_entry(getattr(factory, f"{family}_{layers}l"), name))
    for family in FAMILIES:
        entries[f"{family}_local"] = ("local", _local)
        entries[f"{family}_url"] = ("url", _url)
    entries["fbank"] = ("baseline", fbank)
    return entries


ENTRIES = _entries()
BUILTIN: dict[str, Callable[..., nn.Module]] = {name: build for name, (_, build) in ENTRIES.items()}
# torch.hub looks entries up as attributes of hubconf: these are the functions it sees
HUB_ENTRIES = {name: build for name, build in BUILTIN.items()}


def kind_of(name: str) -> str:
    return ENTRIES[name][0] if name in ENTRIES else "plugin"


def _plugins() -> dict:
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


def _unknown(name: str) -> ConfigError:
    hint = ""
    if f"{name}_random" in BUILTIN:  # the random models' names before the pretrained ones came
        hint = (f" (the randomly initialised model is {name}_random; the pretrained ones are "
                f"{', '.join(sorted(pretrained.pretrained_names()))})")
    return ConfigError(f"unknown upstream {name!r}{hint}; available: {', '.join(available_upstreams())}")


def load_upstream(name: str, ckpt: str | Path | None = None, **kwargs) -> nn.Module:
    """Build an upstream by hub name; ``ckpt`` is for ``*_local`` (a path) and ``*_url`` (a URL)."""
    if name in BUILTIN:
        kind, build = ENTRIES[name]
        if kind in ("local", "url"):
            return build(ckpt=ckpt, **kwargs)
        if ckpt is not None:
            raise ConfigError(f"upstream {name!r} ({kind}) takes no checkpoint; use aalbert_local (a file) or "
                             f"aalbert_url (a URL) to load {ckpt}")
        return build(**kwargs)
    plugins = _plugins()
    if name in plugins:
        builder = plugins[name].load()
        return builder(ckpt=ckpt, **kwargs) if ckpt is not None else builder(**kwargs)
    raise _unknown(name)


_HASHES: dict[tuple, str] = {}


def file_sha256(path: str | Path) -> str:
    """A file's sha256, computed once per (path, size, mtime) in this process."""
    path = Path(path).resolve()
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        _HASHES[key] = sha256_of(path)
    return _HASHES[key]


def upstream_identity(name: str, ckpt: str | Path | None = None) -> dict:
    """What decides an upstream's weights: its name and the content of its checkpoint.

    A pretrained name stands for its published file; a checkpoint file is identified by its
    sha256, not its path or date, so a file replaced in place is another upstream. A random
    model's weights come from the run's seed, which the run's config records.
    """
    kind = kind_of(name)
    if kind == "pretrained":
        model = pretrained.find_pretrained(name)
        return {"name": name, "kind": kind, "pretrained": model.name, "url": model.url}
    identity: dict = {"name": name, "kind": kind}
    if ckpt is not None:
        path = Path(ckpt)
        if kind != "url" and path.is_file():
            identity.update(ckpt=str(path.resolve()), sha256=file_sha256(path))
        else:
            identity["ckpt"] = str(ckpt)
    return identity


def upstream_label(name: str, ckpt: str | Path | None = None, seed: int | None = None) -> str:
    """What a plot or table shows, in words: pretrained (which), a checkpoint file, or random weights."""
    kind = kind_of(name)
    if kind == "pretrained":
        model = pretrained.find_pretrained(name)
        return name if name == model.name else f"{name} (pretrained {model.name})"
    if ckpt is not None:
        return f"{name} ({Path(str(ckpt)).name})" if kind != "url" else f"{name} ({ckpt})"
    if kind == "random":
        return f"{name} (random weights{f', seed {seed}' if seed is not None else ''})"
    return name


def describe(model: nn.Module) -> dict:
    params = sum(p.numel() for p in model.parameters())
    encoder = getattr(model, "encoder", None)
    return {"layers": model.num_layers, "hidden": model.hidden_size, "stacking": getattr(model, "stacking", 1),
            "encoder_params": sum(p.numel() for p in encoder.parameters()) if encoder is not None else 0,
            "params": params}


def _row(name: str) -> tuple[str, ...]:
    kind = kind_of(name)
    if kind == "pretrained":
        model = pretrained.find_pretrained(name)
        cached = "yes" if model.cache_path().is_file() else "no"
        same = "" if name == model.name else f"= {model.name}"
        return (name, kind, str(model.layers), "all" if model.shared else "none", f"{model.params:,}", cached, same)
    if kind in ("local", "url"):
        return (name, kind, "from ckpt", "from ckpt", "-", "-", "")
    model = load_upstream(name)
    info = describe(model)
    groups = getattr(getattr(model, "encoder_config", None), "groups", None)
    shared = "-" if not info["layers"] else ("all" if groups == 1 and info["layers"] > 1 else "none")
    return (name, kind, str(info["layers"]), shared, f"{info['encoder_params']:,}", "-", "")


def _table(names: list[str]) -> str:
    rows = [("name", "kind", "layers", "shared", "encoder params", "cached", "same as")]
    rows += [_row(name) for name in names]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i in (0, 1, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n\ncache: {Path(torch.hub.get_dir()) / 'aalbert'}"


def _info(name: str) -> str:
    kind = kind_of(name)
    if kind != "pretrained":
        doc = (BUILTIN.get(name).__doc__ if name in BUILTIN else None) or ""
        return f"{name}: {kind}. {doc.strip()}"
    model = pretrained.find_pretrained(name)
    path = model.cache_path()
    lines = [f"{name}: pretrained {model.family}", f"  model     {model.name}", f"  about     {model.describe()}",
             f"  aliases   {', '.join(model.aliases) or '-'}", f"  url       {model.url}",
             f"  sha256    {model.sha256 or 'not published (recorded at the first download)'}",
             f"  download  ~{model.approx_download_mb} MB (weights and optimizer state)",
             f"  cache     {path} ({'present' if path.is_file() else 'not downloaded'})"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aalbert-hub", description="aalbert upstream hub",
                                     epilog="example: aalbert-hub download aalbert")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every upstream: kind (pretrained/random/local/url), layers, sharing, cached")
    info = sub.add_parser("info", help="one upstream: what it is, its URL and cache path")
    info.add_argument("name")
    download = sub.add_parser("download", help="download a pretrained model into the cache now")
    download.add_argument("name")
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            print(_table(available_upstreams()))
        elif args.command == "info":
            if args.name not in BUILTIN and args.name not in _plugins():
                raise _unknown(args.name)
            print(_info(args.name))
        else:
            print(pretrained.download_pretrained(args.name))
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
