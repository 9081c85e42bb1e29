"""Hub entry points and the upstream registry.

Names mean what they mean in s3prl:

* pretrained (downloaded once into torch's hub cache, see aalbert.upstream.pretrained):
  ``aalbert`` = ``audio_albert`` (the 960 h logMelBase Audio ALBERT, 3 layers sharing one set of
  weights), ``mockingjay`` = ``mockingjay_origin`` (the 360 h logMelLinearLarge, 12 layers), and
  every other published ``audio_albert*`` / ``mockingjay*`` name;
* random weights, said in the name: ``mockingjay_{3,6,12}l_random``, ``aalbert_{3,6,12}l_random``
  (paper sizes: hidden 768, 12 heads, FFN 3072);
* ``local(ckpt=PATH)`` and ``url(ckpt=URL)``: any s3prl-format checkpoint (the weight sharing
  comes from the file). s3prl names one loader per family (``mockingjay_local``,
  ``audio_albert_local``, ...); here those names are aliases of these two functions (the same
  objects), kept so s3prl habits work;
* ``fbank``: the parameter-free log-mel baseline.

Every built-in entry takes the keywords of s3prl's hub functions too (``refresh``, ``options_config``,
``model_config``, ``hooks=None``), with s3prl's meaning or ignored as s3prl ignores them: aalbert.hub_options.
Plugins add factories under the entry-point group ``aalbert.upstream``.
``aalbert hub list`` prints every entry, and whether a
pretrained one is in the cache. The names and their kinds are the torch-free table of
aalbert.hub_table (what the listing reads); this module makes each an entry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import partial
from pathlib import Path

from torch import nn

from aalbert.checkpoint_file import CheckpointError, check_checkpoint_file
from aalbert.config import ConfigError
from aalbert.download import cached_download, cached_file_error, sha256_of
from aalbert.errors import CheckpointNeededError
from aalbert.hub_options import s3prl_keywords
from aalbert.hub_table import ENTRY_POINT_GROUP as ENTRY_POINT_GROUP  # the names, kinds and plugins: torch-free
from aalbert.hub_table import KINDS, available_upstreams, kind_of, plugin_entries
from aalbert.torch_hub_dir import torch_hub_dir
from aalbert.upstream import factory, pretrained
from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.fbank import FbankUpstream


def _pretrained_entry(name: str) -> Callable[..., nn.Module]:
    model = pretrained.find_pretrained(name)

    def entry(
        max_input_length: int | None = None, progress: bool = True, refresh: bool = False, ckpt: None = None
    ) -> nn.Module:
        if ckpt is not None:  # s3prl's runner passes ckpt=None to every upstream
            raise ConfigError(f"{name} is a published checkpoint; a file of your own loads with local(ckpt=...)")
        return pretrained.load_pretrained(name, max_input_length=max_input_length, progress=progress, refresh=refresh)

    entry.__name__ = name
    entry.__doc__ = (
        f"Pretrained {model.family} {model.name}: {model.describe()}. Downloaded once (~"
        f"{model.approx_download_mb} MB) into torch.hub.get_dir()/aalbert/; AALBERT_OFFLINE=1 forbids "
        "downloads. max_input_length=0 forwards long inputs whole instead of in s3prl's pieces."
    )
    return s3prl_keywords(entry, downloads=True)


def _random_entry(build: Callable[..., nn.Module], name: str) -> Callable[..., nn.Module]:
    def entry(**kwargs) -> nn.Module:
        model = build(**kwargs)
        setattr(model, "name", name)  # noqa: B010 - an upstream carries its hub name (an nn.Module attribute)
        return model

    entry.__name__ = name
    entry.__doc__ = (build.__doc__ or "") + " Randomly initialised: nothing is downloaded."
    return s3prl_keywords(entry, downloads=False)


@partial(s3prl_keywords, downloads=False)
def local(
    ckpt: str | Path | None = None, allow_unsafe_pickle: bool = False, max_input_length: int | None = None
) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint file (weights-only); the sharing comes from the file.
    Also named ``aalbert_local``, ``audio_albert_local`` and ``mockingjay_local`` (s3prl's names)."""
    if ckpt is None:
        raise ConfigError("local (alias *_local) needs ckpt=<path to an s3prl-format checkpoint>")
    return upstream_from_checkpoint(ckpt, allow_unsafe_pickle=allow_unsafe_pickle, max_input_length=max_input_length)


@partial(s3prl_keywords, downloads=True)
def url(
    ckpt: str | None = None, max_input_length: int | None = None, progress: bool = True, refresh: bool = False
) -> nn.Module:
    """Any s3prl mockingjay / audio_albert checkpoint at a URL, downloaded once into the hub cache.
    Also named ``aalbert_url``, ``audio_albert_url`` and ``mockingjay_url`` (s3prl's names)."""
    if ckpt is None:
        raise ConfigError("url (alias *_url) needs ckpt=<URL of an s3prl-format checkpoint>")
    path = download_url(ckpt, progress=progress, refresh=refresh)
    try:
        return upstream_from_checkpoint(path, max_input_length=max_input_length)
    except CheckpointError as err:
        raise cached_file_error(
            ckpt,
            path,
            f"checkpoint {ckpt}",
            f"the cached file cannot be used ({err.problem})",
            pretrained.refetch_command(ckpt),
        ) from err


def download_url(ckpt: str, progress: bool = True, refresh: bool = False, verify_cached: bool = False) -> Path:
    """The ``url`` entry's cached copy of the checkpoint at ``ckpt`` (downloaded and kept only if whole)."""
    return cached_download(
        ckpt,
        url_cache_path(ckpt),
        what=f"checkpoint {ckpt}",
        progress=progress,
        verify=check_checkpoint_file,
        force=refresh,
        refetch=pretrained.refetch_command(ckpt),
        verify_cached=verify_cached,
    )


def url_cache_path(ckpt: str) -> Path:
    """Where the ``url`` entry caches the file at ``ckpt``: one folder per URL (its hash)."""
    folder = hashlib.sha256(ckpt.encode()).hexdigest()[:16]
    name = Path(ckpt.split("?")[0]).name or "checkpoint.ckpt"
    return torch_hub_dir() / "aalbert" / "url" / folder / name


@partial(s3prl_keywords, downloads=False)
def fbank(**kwargs) -> nn.Module:
    """Parameter-free 80-dim log-mel baseline: hidden_states = [fbank], num_layers = 0."""
    return FbankUpstream(**kwargs)


def refresh_download(name: str, ckpt: str | Path | None = None, progress: bool = True) -> bool:
    """Download the checkpoint of upstream ``name`` again (s3prl's ``-r``); False: it downloads nothing."""
    kind = kind_of(name) if name in BUILTIN else None
    if kind == "pretrained":
        pretrained.download_pretrained(name, progress=progress, refresh=True)
    elif kind == "url" and ckpt is not None:
        download_url(str(ckpt), progress=progress, refresh=True)
    else:
        return False
    return True


def _entry(name: str, kind: str) -> Callable[..., nn.Module]:
    if kind == "pretrained":
        return _pretrained_entry(name)
    if kind == "random":
        return _random_entry(getattr(factory, name.removesuffix("_random")), name)
    functions: dict[str, Callable[..., nn.Module]] = {"local": local, "url": url, "baseline": fbank}
    return functions[kind]  # s3prl's *_local / *_url names: these same functions


# every built-in entry by name, one per name of hub_table.KINDS (hubconf.py offers them to torch.hub as they are)
BUILTIN: dict[str, Callable[..., nn.Module]] = {name: _entry(name, kind) for name, kind in KINDS.items()}


def unknown_upstream_error(name: str) -> ConfigError:
    hint = ""
    if f"{name}_random" in BUILTIN:  # the random models' names before the pretrained ones came
        hint = (
            f" (the randomly initialised model is {name}_random; the pretrained ones are "
            f"{', '.join(sorted(pretrained.pretrained_names()))})"
        )
    return ConfigError(f"unknown upstream {name!r}{hint}; available: {', '.join(available_upstreams())}")


def load_upstream(name: str, ckpt: str | Path | None = None, **kwargs) -> nn.Module:
    """Build an upstream by hub name; ``ckpt`` is for ``local`` (a path) and ``url`` (a URL), and their aliases."""
    if name in BUILTIN:
        kind, build = kind_of(name), BUILTIN[name]
        if kind in ("local", "url"):
            if ckpt is None:
                what = "path to an s3prl-format checkpoint" if kind == "local" else "URL of an s3prl-format checkpoint"
                raise CheckpointNeededError(name, what)
            return build(ckpt=ckpt, **kwargs)
        if ckpt is not None:
            raise ConfigError(
                f"upstream {name!r} ({kind}) takes no checkpoint; use local (a file) or url (a URL) to load {ckpt}"
            )
        return build(**kwargs)
    plugins = plugin_entries()
    if name in plugins:
        builder = plugins[name].load()
        return builder(ckpt=ckpt, **kwargs) if ckpt is not None else builder(**kwargs)
    raise unknown_upstream_error(name)


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
    return {
        "layers": model.num_layers,
        "hidden": model.hidden_size,
        "stacking": getattr(model, "stacking", 1),
        "encoder_params": sum(p.numel() for p in encoder.parameters()) if encoder is not None else 0,
        "params": params,
    }


if __name__ == "__main__":  # `python -m aalbert.hub list`, as older docs say: the `aalbert hub` command
    import sys

    from aalbert.hub_command import main

    sys.exit(main(prog="python -m aalbert.hub"))
