"""What a probing run writes: the finished probes as they finish (``probe_progress.json``, what an
interrupted run resumes from), then the table (``probe_results.csv`` / ``.json``) and the figure
(``probe_accuracy.png``)."""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from aalbert.atomic import write_text_atomic
from aalbert.downstream.data import Corpus
from aalbert.errors import BadInputError

from .probe_config import ProbingConfig

CSV_NAME = "probe_results.csv"
JSON_NAME = "probe_results.json"
PNG_NAME = "probe_accuracy.png"
PROGRESS_NAME = "probe_progress.json"  # finished probes, kept as they finish (an interrupted run resumes)
# in probe_progress.json: rows of another format were trained otherwise and are not reused
# (2: probes train in the downstream loop, with its batch order)
PROGRESS_FORMAT = 2


def upstream_fingerprint(config: ProbingConfig) -> dict:
    from aalbert.hub import upstream_identity  # late: the hub imports every upstream family

    try:
        return upstream_identity(config.upstream, config.ckpt)
    except (OSError, ValueError, BadInputError):
        return {"name": config.upstream, "ckpt": config.ckpt}


class ProbeProgress:
    """Finished (layer, probe) results of one probing setup, written as each probe finishes.

    Rows are reused only by a run with the same settings (apart from which layers and probes
    it asks for) and the same upstream (checkpoint content): each probe is seeded on its own,
    so a finished row is what a fresh run would compute.
    """

    def __init__(self, path: Path, config: ProbingConfig, upstream: dict):
        settings = {
            k: v
            for k, v in asdict(config).items()
            if k not in ("layers", "probes", "device", "extract_batch_size", "cache_dir", "cache_check")
        }
        key = {"format": PROGRESS_FORMAT, "settings": settings, "upstream": upstream}
        self.path, self.key = path, json.loads(json.dumps(key, default=str))
        self.rows: list[dict] = []
        if path.is_file():
            try:
                saved = json.loads(path.read_text())
            except ValueError:
                saved = {}
            if saved.get("key") == self.key:
                self.rows = list(saved.get("rows", []))

    def done(self, layer: int, probe: str) -> dict | None:
        return next((r for r in self.rows if r["layer"] == layer and r["probe"] == probe), None)

    def add(self, row: dict) -> None:
        self.rows.append(row)
        write_text_atomic(self.path, json.dumps({"key": self.key, "rows": self.rows}, indent=1) + "\n")


def write_outputs(
    rows: list[dict],
    config: ProbingConfig,
    metric: str,
    corpus: Corpus,
    upstream_info: dict,
    out_dir: str | Path,
    chance: dict | None = None,
) -> tuple[Path, Path, Path]:
    """The table, the JSON (``chance``: aalbert.downstream.chance.chance_levels of the probed label)
    and the figure of one probing run."""
    from aalbert.hub import upstream_label  # late: the hub imports every upstream family

    from .probe_figure import plot_probe_accuracy  # matplotlib only when writing

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / CSV_NAME
    with open(csv_path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    payload = {
        "task": config.task,
        "metric": metric,
        "upstream": {**upstream_info, "label": upstream_label(config.upstream, config.ckpt, config.train.seed)},
        "rows": rows,
        "chance": chance,
        "data": {
            "utterances": {k: len(v) for k, v in corpus.splits.items()},
            "speakers": len(corpus.speakers),
            "phones": len(corpus.phone_names or []),
            "skipped_no_alignment": corpus.skipped,
        },
        "settings": asdict(config),
    }
    json_path = out_dir / JSON_NAME
    json_path.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    png_path = plot_probe_accuracy([payload], out_dir / PNG_NAME)
    return csv_path, json_path, png_path
