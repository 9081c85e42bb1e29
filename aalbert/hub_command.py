"""``aalbert hub``: list, describe and download the upstreams ``torch.hub.load`` knows.

``aalbert hub list`` imports no torch: the names and kinds (aalbert.hub_table), the pretrained
table (aalbert.upstream.pretrained_table), the random models' configs and their parameter counts
(aalbert.upstream.model_config, param_count) and the cache folder (aalbert.torch_hub_dir) are all
torch-free. Only a plugin's row loads the plugin (only its own code knows its size).
"""

from __future__ import annotations

import argparse
import sys

from aalbert.command_flags import add_debug_flag, command_parser
from aalbert.errors import report_error

PROG = "aalbert hub"


def _row(name: str) -> tuple[str, ...]:
    from aalbert.hub_table import kind_of
    from aalbert.upstream.model_config import paper_encoder_config
    from aalbert.upstream.param_count import encoder_params
    from aalbert.upstream.pretrained_table import find_pretrained

    kind = kind_of(name)
    if kind == "pretrained":
        model = find_pretrained(name)
        cached = "yes" if model.cache_path().is_file() else "no"
        same = "" if name == model.name else f"= {model.name}"
        return (name, kind, str(model.layers), "all" if model.shared else "none", f"{model.params:,}", cached, same)
    if kind in ("local", "url"):
        return (name, kind, "from ckpt", "from ckpt", "-", "-", "")
    if kind == "random":  # counted from the config: a paper-size model takes seconds and hundreds of MB to build
        config = paper_encoder_config(name.removesuffix("_random"))
        shared = "all" if config.groups == 1 and config.num_hidden_layers > 1 else "none"
        return (name, kind, str(config.num_hidden_layers), shared, f"{encoder_params(config):,}", "-", "")
    if kind == "baseline":  # fbank: parameter-free, no encoder
        return (name, kind, "0", "-", "0", "-", "")
    from aalbert import hub  # torch and every upstream family: only for a plugin's row

    upstream = hub.load_upstream(name)  # a plugin: only its own code knows its size
    info = hub.describe(upstream)
    groups = getattr(getattr(upstream, "encoder_config", None), "groups", None)
    shared = "-" if not info["layers"] else ("all" if groups == 1 and info["layers"] > 1 else "none")
    return (name, kind, str(info["layers"]), shared, f"{info['encoder_params']:,}", "-", "")


def _table(names: list[str]) -> str:
    from aalbert.torch_hub_dir import torch_hub_dir

    rows: list[tuple[str, ...]] = [("name", "kind", "layers", "shared", "encoder params", "cached", "same as")]
    rows += [_row(name) for name in names]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) if i in (0, 1, 6) else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines) + f"\n\ncache: {torch_hub_dir() / 'aalbert'}"


def _info(name: str) -> str:
    from aalbert import hub
    from aalbert.upstream import pretrained

    kind = hub.kind_of(name)
    if kind != "pretrained":
        doc = (hub.BUILTIN.get(name).__doc__ if name in hub.BUILTIN else None) or ""
        return f"{name}: {kind}. {doc.strip()}"
    model = pretrained.find_pretrained(name)
    path = model.cache_path()
    lines = [
        f"{name}: pretrained {model.family}",
        f"  model     {model.name}",
        f"  about     {model.describe()}",
        f"  aliases   {', '.join(model.aliases) or '-'}",
        f"  url       {model.url}",
        f"  sha256    {model.sha256 or 'not published (recorded at the first download)'}",
        f"  download  ~{model.approx_download_mb} MB (weights and optimizer state)",
        f"  cache     {path} ({'present' if path.is_file() else 'not downloaded'})",
    ]
    return "\n".join(lines)


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = command_parser(
        prog,
        "List, describe and download the upstreams torch.hub.load knows.",
        [
            "aalbert hub list",
            "aalbert hub info aalbert",
            "aalbert hub download aalbert        # into torch.hub.get_dir()/aalbert, for offline machines later",
            "aalbert hub download aalbert --force   # replace a damaged cached copy (once the new one checks out)",
        ],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every upstream: kind (pretrained/random/local/url), layers, sharing, cached")
    info = sub.add_parser("info", help="one upstream: what it is, its URL and cache path")
    info.add_argument("name")
    download = sub.add_parser(
        "download", help="download a pretrained model (or a url entry's URL) into the cache now; check a cached one"
    )
    download.add_argument("name", help="a pretrained name (aalbert hub list) or the URL given to the url entry")
    download.add_argument(
        "--force",
        action="store_true",
        help="download again even when cached; the old copy is replaced once the new one checks out",
    )
    for command in (info, download):
        add_debug_flag(command)
    return parser


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        if args.command == "list":  # torch-free (see the module's doc)
            from aalbert.hub_table import available_upstreams

            print(_table(available_upstreams()))
            return 0
        # the work: the hub imports torch and every upstream family (once the flags are parsed)
        from aalbert import hub
        from aalbert.upstream import pretrained

        if args.command == "info":
            if args.name not in hub.BUILTIN and args.name not in hub.plugin_entries():
                raise hub.unknown_upstream_error(args.name)
            print(_info(args.name))
        elif "://" in args.name:
            print(hub.download_url(args.name, refresh=args.force, verify_cached=True))
        else:
            print(pretrained.download_pretrained(args.name, refresh=args.force, verify_cached=True))
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, prog, getattr(args, "debug", False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
