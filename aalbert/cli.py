"""``aalbert``: one command for the whole toolkit (also ``python -m aalbert``).

Each subcommand is the toolkit's command of that name, with its own ``--help``; the
``run_*.py`` scripts of a checkout stay as aliases for s3prl habits. Every command has one frame:
``main(argv, prog)`` parses its flags before any heavy import (torch, the hub, the models), so
``--help`` and usage errors answer at once, and reports errors under ``prog``, the name the user
typed (``aalbert downstream`` here, ``run_downstream.py`` from the alias).
"""

from __future__ import annotations

import importlib
import sys

# subcommand -> (torch-free module with main(argv, prog), what it does, an example)
COMMANDS = {
    "pretrain": (
        "aalbert.pretrain.cli",
        "pretrain Mockingjay / Audio ALBERT (masked acoustic model)",
        "aalbert pretrain -u aalbert -c pretrain/tiny -n tiny -o data.roots=[/data/LibriSpeech/dev-clean]",
    ),
    "downstream": (
        "aalbert.downstream.command",
        "train or evaluate a downstream task on an upstream's features",
        "aalbert downstream -m train -u aalbert -d phone_linear -n phone --data data/synth40",
    ),
    "probe": (
        "aalbert.analysis.probe_command",
        "per-layer phone / speaker probing of a frozen upstream",
        "aalbert probe -u aalbert --task phone --data data/synth40",
    ),
    "attention": (
        "aalbert.analysis.attention_command",
        "Jensen-Shannon divergence between layers' attention",
        "aalbert attention -u aalbert --data data/synth40",
    ),
    "plots": (
        "aalbert.analysis.plots",
        "figures of finished experiments (downstream, probe, attention, demo)",
        "aalbert plots layer-weights result/downstream/phone_aalbert",
    ),
    "extract": (
        "aalbert.extract.command",
        "an upstream's hidden states for a whole corpus: Kaldi ark/scp, Lhotse or .npy, sharded, resumable",
        "aalbert extract -u aalbert -l 3 --data data/synth40 --out feats/aalbert_l3 --jobs 2",
    ),
    "hub": ("aalbert.hub_command", "list, describe and download upstreams", "aalbert hub list"),
    "corpus": (
        "aalbert.corpus.__main__",
        "synthesize a corpus with exact phone alignments, or inspect any corpus",
        "aalbert corpus synthesize --out data/synth40 --speakers 40 --utterances 25; aalbert corpus inspect data/synth40",
    ),
    "demo": (
        "aalbert.demo",
        "the whole pipeline on a synthetic corpus (~15 min on 2 cores)",
        "aalbert demo --out demo",
    ),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: aalbert COMMAND [ARGS ...]   (aalbert COMMAND --help for its flags)", "", "commands:"]
    for name, (_, what, example) in COMMANDS.items():
        lines.append(f"  {name:<{width}}  {what}")
        lines.append(f"  {'':<{width}}    e.g. {example}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        print(f"aalbert: unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    code = module.main(rest, prog=f"aalbert {command}")
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
