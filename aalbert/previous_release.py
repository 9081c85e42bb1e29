"""Reading what the previous release wrote: its settings' old names, mapped once to today's.

Configs saved inside pretraining checkpoints (``Config``), experiment records (``experiment.json``)
and downstream experiment folders (``config.yaml``) keep the names they were written with. When a
run resumes or evaluates one of them, :func:`upgrade` moves each old key to its new place and
says so once; whatever the run writes from then on uses the new names. Nothing else reads the
old names: a recipe, a ``-c`` file or an ``-o`` that uses one is an unknown key (the error names
today's keys).
"""

from __future__ import annotations

import copy
import warnings
from typing import Any, Literal

Kind = Literal["pretrain", "downstream"]

# old dotted key -> new dotted key
RENAMED: dict[Kind, dict[str, str]] = {
    # training settings took s3prl's names (runner.*, optimizer.*) in both loops
    "pretrain": {
        "optim.lr": "optimizer.lr",
        "optim.weight_decay": "optimizer.weight_decay",
        "optim.warmup_proportion": "optimizer.warmup_proportion",
        "optim.total_steps": "runner.total_steps",
        "optim.grad_clip": "runner.gradient_clipping",
        "optim.grad_accum": "runner.gradient_accumulate_steps",
        "optim.bf16": "runner.bf16",
        "log.log_every": "runner.log_step",
        "log.save_every": "runner.save_step",
        "log.keep_last": "runner.max_keep",
        "log.image_every": "runner.image_step",
        "data.batch_size": "runner.batch_size",
        "data.num_workers": "runner.num_workers",
        "model.downsample_rate": "model.stacking",  # s3prl's name for it, two releases back
    },
    # the corpus folders: one list, as in pretraining (data.root + data.more_roots -> data.roots)
    "downstream": {},
}
ROOTS_BEFORE = ("root", "more_roots")  # downstream data keys folded into data.roots


def _pop(data: dict, dotted: str) -> tuple[bool, Any]:
    *parents, last = dotted.split(".")
    node: Any = data
    for key in parents:
        node = node.get(key) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return False, None
    if last not in node:
        return False, None
    value = node.pop(last)
    if parents and not node:  # an emptied old section (optim, log) goes too
        _pop(data, ".".join(parents))
    return True, value


def _put(data: dict, dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    node = data
    for key in parents:
        node = node.setdefault(key, {})
    node.setdefault(last, value)  # a new key the file also has keeps the file's value


def upgrade(kind: Kind, config: dict, where: str) -> dict:
    """``config`` (as read from ``where``) with the previous release's keys under today's names; a
    warning lists what was moved. A config without old keys is returned as it is."""
    out = copy.deepcopy(config)
    moved = []
    for old, new in RENAMED[kind].items():
        found, value = _pop(out, old)
        if found:
            _put(out, new, value)
            moved.append(f"{old} -> {new}")
    data = out.get("data")
    if kind == "downstream" and isinstance(data, dict) and any(key in data for key in ROOTS_BEFORE):
        roots = [data.pop("root")] if "root" in data else []
        roots += list(data.pop("more_roots", None) or [])
        data.setdefault("roots", roots)
        moved.append("data.root + data.more_roots -> data.roots")
    if moved:
        warnings.warn(
            f"{where} was written by an earlier aalbert; read with today's names ({', '.join(moved)}). "
            "What this run writes uses the new names.",
            UserWarning,
            stacklevel=2,
        )
    return out
