"""The hub's names and what each is, torch-free: the table ``aalbert hub list`` reads.

``KINDS`` names every built-in entry with its kind (pretrained, random, local, url, baseline);
aalbert.hub builds its entries (``BUILTIN``, what hubconf.py offers torch.hub) from this table,
one per name, so the listing and the loaders cannot disagree. Plugins add factories under the
entry-point group ``aalbert.upstream``; they are found here too, without loading them.
"""

from __future__ import annotations

import warnings
from importlib.metadata import EntryPoint, entry_points

from aalbert.upstream.pretrained_table import pretrained_names

ENTRY_POINT_GROUP = "aalbert.upstream"
FAMILIES = ("aalbert", "audio_albert", "mockingjay")  # s3prl's per-family *_local / *_url names
RANDOM_LAYERS = (3, 6, 12)
RANDOM_FAMILIES = ("mockingjay", "aalbert")  # the factories of aalbert.upstream.factory


def _kinds() -> dict[str, str]:
    kinds = dict.fromkeys(pretrained_names(), "pretrained")
    for layers in RANDOM_LAYERS:
        for family in RANDOM_FAMILIES:
            kinds[f"{family}_{layers}l_random"] = "random"
    kinds["local"], kinds["url"] = "local", "url"
    for family in FAMILIES:  # s3prl's per-family names: aliases of local and url
        kinds[f"{family}_local"], kinds[f"{family}_url"] = "local", "url"
    kinds["fbank"] = "baseline"
    return kinds


KINDS: dict[str, str] = _kinds()


def kind_of(name: str) -> str:
    """What the entry ``name`` is: pretrained, random, local, url, baseline, or plugin (not built in)."""
    return KINDS.get(name, "plugin")


def plugin_entries() -> dict[str, EntryPoint]:
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in KINDS:
            warnings.warn(
                f"plugin upstream {ep.name!r} ({ep.value}) is shadowed by the built-in of that name", stacklevel=3
            )
            continue
        found[ep.name] = ep
    return found


def available_upstreams() -> list[str]:
    return sorted(KINDS) + sorted(plugin_entries())
