"""torchrun / DDP plumbing shared by pretraining and downstream training.

``init_distributed`` joins the process group torchrun describes and returns the device this
process uses; everything else (:func:`rank`, :func:`world_size`, :func:`is_main`, the collectives)
asks the process group itself, and does nothing in a single process. One API for both loops.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import torch
import torch.distributed as dist

from aalbert.errors import AalbertError, UsageError

T = TypeVar("T")


class MainRankFailed(AalbertError):
    """Rank 0 failed at a step only it takes (it reports the error itself)."""


def resolve_device(name: str | None) -> torch.device:
    """The device ``--device`` names: "cpu", "cuda", or "auto" / None (CUDA when available)."""
    if name in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UsageError("--device cuda: this machine has no CUDA device torch can use (use --device cpu)")
    return torch.device(name)


def init_distributed(device: str | None = None, backend: str | None = None) -> torch.device:
    """Join the process group torchrun describes (``WORLD_SIZE`` > 1), else run single-process.

    NCCL when each process has a GPU, gloo on CPU (tests, CPU machines), unless ``backend`` names
    one (s3prl's ``--backend``). ``device`` forces "cpu" or "cuda" ("auto" or None: CUDA when
    available), on this process's ``LOCAL_RANK`` GPU.
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    use_cuda = resolve_device(device).type == "cuda"
    if use_cuda:
        torch.cuda.set_device(local_rank)
        dev = torch.device("cuda", local_rank)
    else:
        dev = torch.device("cpu")
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(backend=backend or ("nccl" if use_cuda else "gloo"))
    return dev


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world_size() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def all_reduce_sum(values: torch.Tensor) -> torch.Tensor:
    """``values`` summed over the ranks, in place (unchanged in a single process)."""
    if dist.is_initialized():
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def all_gather_objects(obj) -> list:
    """Every rank's ``obj``, in rank order (a list of one element in a single process)."""
    if not dist.is_initialized():
        return [obj]
    out = [None] * dist.get_world_size()
    dist.all_gather_object(out, obj)
    return out


def broadcast_object(obj):
    """Rank 0's ``obj`` on every rank (e.g. a decision taken after rank-0 evaluation)."""
    if not dist.is_initialized():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def on_main_rank(action: Callable[[], T]) -> T | None:
    """``action()`` on rank 0 only (e.g. taking the experiment folder); its result there, None elsewhere.

    The other ranks wait for it and learn whether it succeeded: if it raised, it raises on rank 0
    and MainRankFailed on the others, so no rank is left waiting at a later collective.
    """
    result = None
    if is_main():
        try:
            result = action()
        except BaseException:
            broadcast_object(False)
            raise
    if not broadcast_object(True):
        raise MainRankFailed("rank 0 stopped (its error is reported above)")
    return result


def cleanup() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
