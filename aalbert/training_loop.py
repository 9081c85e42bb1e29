"""What the two training loops (pretraining: aalbert.pretrain.trainer; downstream tasks and probes:
aalbert.downstream.training) do the same way, in one place:

* **where a run is** (:class:`TrainingState`): optimizer steps taken, the epoch and the batches of it
  already consumed, and (downstream) the best dev evaluation so far; a checkpoint stores it and a
  resume starts from it.
* **gradients** (:func:`clip_gradients`): clipped to ``runner.gradient_clipping`` (<= 0: not clipped),
  the norm measured either way.
* **non-finite steps** (:class:`NonFiniteSteps`), one policy for both: a step whose loss or gradient
  norm is NaN or infinite is not applied (weights and optimizer moments stay as they were); the step
  still counts, so the learning-rate schedule and the data order go on as in a run without it, and a
  warning names it. :data:`NON_FINITE_LIMIT` such steps in a row mean the run has diverged: it stops
  with :class:`NonFiniteTrainingError`, naming the last checkpoint written (nothing was saved after
  the first bad step).
* **stopping** (:func:`stop_on_signals`, :class:`TrainingInterrupted`): SIGTERM (a job scheduler,
  ``kill``) is handled as Ctrl-C (SIGINT); either one saves a resumable checkpoint at the last
  finished step, then the command exits with 130 and says how to resume.
"""

from __future__ import annotations

import contextlib
import math
import signal
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from aalbert.errors import AalbertError

NON_FINITE_LIMIT = 3  # non-finite steps in a row that stop a run


@dataclass
class TrainingState:
    step: int = 0  # optimizer steps taken
    epoch: int = 0
    position: int = 0  # batches (pretraining: micro-batches) of the current epoch already consumed
    # downstream only: the best dev evaluation (early stopping counts evaluations since it)
    best_metric: float | None = None
    best_step: int = -1
    best_dev: dict[str, float] | None = None
    evals_since_best: int = 0

    def as_dict(self) -> dict:
        """Plain numbers, strings and dicts: stored in checkpoints read back weights-only."""
        return asdict(self)


class NonFiniteTrainingError(AalbertError):
    """:data:`NON_FINITE_LIMIT` training steps in a row had a NaN/inf loss or gradient: the run diverged."""


class TrainingInterrupted(AalbertError):
    """SIGINT / SIGTERM during training: a resumable checkpoint was written first."""

    def __init__(self, step: int, checkpoint: Path | None):
        self.step, self.checkpoint = step, checkpoint
        self.expdir = checkpoint.parent if checkpoint is not None else None
        where = f"the state is saved in {checkpoint}" if checkpoint is not None else "nothing was saved"
        # the command adds how to resume, in the name it was invoked by (aalbert downstream, run_pretrain.py)
        super().__init__(f"interrupted at step {step}; {where}")


def clip_gradients(parameters: Iterable[torch.nn.Parameter], clipping: float) -> float:
    """Clip the global gradient norm to ``clipping`` (<= 0: no clipping); the norm before clipping."""
    return float(torch.nn.utils.clip_grad_norm_(list(parameters), clipping if clipping > 0 else math.inf))


class NonFiniteSteps:
    """The non-finite policy (module docstring): ``apply(...)`` says whether a step's update may be applied.
    ``last_checkpoint``: finds the loop's last checkpoint, for the message that stops a diverged run
    (asked only then: finding it may read a folder, which a training step should not)."""

    def __init__(self, last_checkpoint: Callable[[], Path | str | None], limit: int = NON_FINITE_LIMIT):
        self.last_checkpoint = last_checkpoint
        self.limit = limit
        self.in_a_row = 0
        self.total = 0  # skipped steps over the run (this process's life)

    def apply(self, step: int, loss: float, grad_norm: float) -> bool:
        """False (and a warning) for a NaN/inf ``loss`` or ``grad_norm`` at ``step`` (1-based, the step
        being taken); the ``limit``-th in a row raises NonFiniteTrainingError."""
        if math.isfinite(loss) and math.isfinite(grad_norm):
            self.in_a_row = 0
            return True
        self.in_a_row += 1
        self.total += 1
        if self.in_a_row >= self.limit:
            raise NonFiniteTrainingError(
                f"step {step}: {self.in_a_row} steps in a row had a non-finite loss or gradient (loss {loss}, "
                f"grad norm {grad_norm}); none was applied. The run diverged: lower optimizer.lr or "
                f"runner.gradient_clipping. Last checkpoint: {self.last_checkpoint() or 'none written yet'}"
            )
        warnings.warn(
            f"step {step}: non-finite loss or gradient (loss {loss}, grad norm {grad_norm}): update skipped",
            stacklevel=2,
        )
        return False


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # the loop saves a resumable checkpoint, then raises TrainingInterrupted


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt as SIGINT does (main thread only: a signal
    handler cannot be set elsewhere, and there Ctrl-C is the caller's business)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
