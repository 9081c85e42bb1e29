"""``aalbert plots``: figures of finished experiments (the attention and probing figures are drawn
by figures.py, importable from here too).

    aalbert plots layer-weights EXPDIR [--out PNG]

draws the learned featurizer weights of a downstream experiment (its ``results.json``) with the
downstream package's own chart, so the two never disagree in style or meaning.
"""

from __future__ import annotations

import sys
from pathlib import Path

from aalbert.command_flags import add_debug_flag, command_parser
from aalbert.errors import BadInputError, MissingFileError, report_error

from .figures import plot_jsd_heatmap, plot_probe_curves  # noqa: F401 - the analysis figures, importable from here


def layer_weights_from_results(expdir: str | Path) -> list[float]:
    """The featurizer weights a downstream run saved (``featurizer.layer_weights``, or top-level)."""
    from aalbert.downstream.results import RESULTS, read_results  # late: torch; the parser is torch-free

    results = read_results(expdir)
    if not results:
        raise MissingFileError(f"{Path(expdir) / RESULTS} not found: is {expdir} a finished downstream experiment?")
    weights = results.get("layer_weights")
    if weights is None:
        weights = (results.get("featurizer") or {}).get("layer_weights")
    if not weights:
        raise BadInputError(f"{Path(expdir) / RESULTS} holds no layer_weights")
    return [float(w) for w in weights]


def layer_weights_chart(expdir: str | Path, out: str | Path | None = None) -> Path:
    from aalbert.downstream.results import LAYER_WEIGHTS_PNG, plot_layer_weights, read_results

    results = read_results(expdir)
    weights = layer_weights_from_results(expdir)
    upstream = (results.get("upstream") or {}).get("name", "")
    title = " / ".join(str(x) for x in (results.get("task"), upstream) if x)
    return plot_layer_weights(weights, out or Path(expdir) / LAYER_WEIGHTS_PNG, title)


def main(argv: list[str] | None = None, prog: str = "aalbert plots") -> int:
    parser = command_parser(
        prog,
        "Figures of finished experiments.",
        ["aalbert plots layer-weights result/downstream/phone_aalbert     # -> EXPDIR/layer_weights.png"],
    )
    sub = parser.add_subparsers(dest="command", required=True)
    lw = sub.add_parser("layer-weights", help="bar chart of a downstream experiment's learned featurizer weights")
    lw.add_argument("expdir", help="downstream experiment folder (holds results.json)")
    lw.add_argument(
        "--out", default=None, help="PNG path (default: the chart's usual name in EXPDIR, beside results.json)"
    )
    add_debug_flag(lw)
    args = parser.parse_args(argv)
    try:
        path = layer_weights_chart(args.expdir, args.out)
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, prog, args.debug)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
