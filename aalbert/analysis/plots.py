"""``aalbert plots``: every figure redrawn from finished experiment folders, with the code that drew
it when the experiment ran (so the two never differ in style or meaning).

    aalbert plots downstream EXPDIR [--out PNG]          # layer_weights.png (alias: layer-weights)
    aalbert plots probe DIR [DIR ...] [--out PNG]        # probe_accuracy.png; several runs in one figure
    aalbert plots attention DIR [--out PNG]              # attention_jsd.png
    aalbert plots demo DIR [--out PNG]                   # the demo's results.png

Each reads the JSON its experiment wrote (results.json, probe_results.json, attention_jsd.json, the
demo's results.json files) and writes beside it unless ``--out`` says where.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aalbert.command_flags import add_debug_flag, command_parser
from aalbert.errors import BadInputError, MissingFileError, UsageError, report_error

EXAMPLES = [
    "aalbert plots downstream result/downstream/phone_aalbert       # -> EXPDIR/layer_weights.png",
    "aalbert plots probe result/probe/aalbert result/probe/mockingjay result/probe/fbank --out probe_accuracy.png",
    "aalbert plots attention result/attention/aalbert_local-states-1000",
    "aalbert plots demo demo_output                                  # -> demo_output/results.png",
]


def read_json(folder: str | Path, name: str, kind: str) -> dict:
    """``folder/name`` parsed, or a one-line error saying which experiment it should be."""
    path = Path(folder) / name
    if not path.is_file():
        raise MissingFileError(f"{path} not found: is {folder} a finished {kind} experiment?")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as err:
        raise BadInputError(f"{path} is not JSON ({err}): rerun the {kind} experiment that wrote it") from None


def layer_weights_from_results(expdir: str | Path) -> list[float]:
    """The featurizer weights a downstream run saved (``featurizer.layer_weights``, or top-level)."""
    from aalbert.downstream.layer_weights_figure import featurizer_of
    from aalbert.downstream.results import RESULTS

    featurizer = featurizer_of(read_json(expdir, RESULTS, "downstream"), str(Path(expdir) / RESULTS))
    return [float(w) for w in featurizer["layer_weights"]]


def downstream_figure(expdir: str | Path, out: str | Path | None = None) -> Path:
    from aalbert.downstream.layer_weights_figure import featurizer_of, plot_layer_weights
    from aalbert.downstream.results import LAYER_WEIGHTS_PNG, RESULTS

    results = read_json(expdir, RESULTS, "downstream")
    featurizer_of(results, str(Path(expdir) / RESULTS))  # checked here: the message names the file
    return plot_layer_weights(results, out or Path(expdir) / LAYER_WEIGHTS_PNG)


def probe_figure(folders: list[str], out: str | Path | None = None, title: str = "") -> Path:
    from .probe_figure import plot_probe_accuracy
    from .probe_results import JSON_NAME, PNG_NAME

    if out is None and len(folders) > 1:
        raise UsageError("several probe folders make one figure: say where it goes with --out PNG")
    runs = [read_json(folder, JSON_NAME, "probe") for folder in folders]
    return plot_probe_accuracy(runs, out or Path(folders[0]) / PNG_NAME, title)


def attention_figure(folder: str | Path, out: str | Path | None = None) -> Path:
    from .attention import JSON_NAME, PNG_NAME
    from .figures import jsd_title, plot_jsd_heatmap

    payload = read_json(folder, JSON_NAME, "attention")
    upstream = payload.get("upstream") or {}
    sample = payload.get("sample") or {}
    title = jsd_title(upstream.get("label") or upstream.get("name", "?"), payload["utterances"], sample.get("speakers"))
    return plot_jsd_heatmap(payload["matrix"], payload["layers"], out or Path(folder) / PNG_NAME, title)


def demo_figure(folder: str | Path, out: str | Path | None = None) -> Path:
    from aalbert.demo_report import plot_results, rows_from_demo

    return plot_results(rows_from_demo(folder), Path(out or Path(folder) / "results.png"))


def build_parser(prog: str) -> argparse.ArgumentParser:
    parser = command_parser(prog, "Figures of finished experiments, redrawn from what they wrote.", EXAMPLES)
    sub = parser.add_subparsers(dest="command", required=True)
    out_help = "PNG path (default: the figure's usual name in the experiment folder)"
    for name, aliases, what in (
        ("downstream", ["layer-weights"], "a downstream experiment's layer weights and test metric"),
        ("attention", [], "an attention experiment's layer x layer JSD heatmap"),
        ("demo", [], "a finished demo's results.png (test accuracy per upstream, chance lines)"),
    ):
        p = sub.add_parser(name, aliases=aliases, help=what)
        p.add_argument("folder", help="the experiment folder")
        p.add_argument("--out", default=None, help=out_help)
        add_debug_flag(p)
    p = sub.add_parser("probe", help="probing accuracy per layer of one or several probe runs in one figure")
    p.add_argument("folders", nargs="+", help="probe experiment folders (each holds probe_results.json)")
    p.add_argument("--out", default=None, help=out_help + "; required for several folders")
    p.add_argument("--title", default="", help="the figure's title (default: the task and metric)")
    add_debug_flag(p)
    return parser


def main(argv: list[str] | None = None, prog: str = "aalbert plots") -> int:
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    try:
        if args.command == "probe":
            path = probe_figure(args.folders, args.out, args.title)
        else:
            draw = {"attention": attention_figure, "demo": demo_figure}.get(args.command, downstream_figure)
            path = draw(args.folder, args.out)
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, prog, args.debug)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
