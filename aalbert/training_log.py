"""What both training loops (pretraining, downstream tasks and probes) show and write while they train.

Every ``runner.log_step`` steps a loop reports the loss averaged over the steps since its last report,
with its learning rate, gradient norm and whatever else it measures; each dev evaluation reports its
metrics. A report goes

* to the terminal: on the tqdm bar (``progress=True``), or, with ``--no-progress`` (meant for log
  files, where a bar is noise), as one plain line on stdout, e.g.
  ``pretrain step 100/1000: loss 0.4123, lr 0.0002, grad_norm 1.37``;
* to TensorBoard, when the loop was given a log folder: the train values as ``train/NAME``, the dev
  metrics as ``dev/NAME``, at the step they were measured.

Only the main process (rank 0 under DDP) shows or writes anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tqdm import tqdm

from aalbert import distributed as dist

TENSORBOARD_DIR = "tb"  # the events folder of a downstream experiment, a probing run and an attention run


def summary_writer(logdir: Path) -> Any:
    """A TensorBoard writer (tensorboardX) into ``logdir``."""
    from tensorboardX import SummaryWriter  # late: only the main process writes logs

    return SummaryWriter(str(logdir))


def format_values(values: Mapping[str, float]) -> str:
    return ", ".join(f"{key} {value:.4g}" for key, value in values.items())


class TrainingLog:
    """A loop's bar or plain lines and its TensorBoard log (module docstring). ``progress``: the
    command's ``not --no-progress``; ``logdir``: where TensorBoard events go (None: none)."""

    def __init__(self, desc: str, total: int, step: int, progress: bool, logdir: Path | None = None):
        self.desc, self.total = desc, total
        self.shown = dist.is_main()
        self.lines = self.shown and not progress  # plain lines instead of a bar
        self.bar = tqdm(
            total=total, initial=step, desc=desc, unit="step", dynamic_ncols=True, disable=not (self.shown and progress)
        )
        self.writer = summary_writer(logdir) if logdir is not None and self.shown else None
        self.window: list[float] = []  # the losses since the last report

    def step_done(self, loss: float) -> None:
        """One optimizer step is done, with this loss."""
        self.bar.update(1)
        self.window.append(loss)

    def report(self, step: int, values: Mapping[str, float]) -> float:
        """The mean loss since the last report and ``values`` (lr, grad_norm, ...): on the bar or one
        plain line, and to TensorBoard as ``train/NAME``. Returns that mean loss."""
        mean = sum(self.window) / len(self.window) if self.window else float("nan")
        self.window = []
        shown = {"loss": mean, **values}
        self.scalars("train", shown, step)
        if self.lines:
            self.write(f"{self.desc} step {step}/{self.total}: {format_values(shown)}")
        elif self.shown:
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in shown.items() if k in ("loss", "lr")}, refresh=False)
        return mean

    def evaluated(self, step: int, metrics: Mapping[str, float], split: str = "dev") -> None:
        """A ``split`` evaluation's metrics: a line (above the bar when there is one) and ``SPLIT/NAME``."""
        self.scalars(split, metrics, step)
        if self.shown:
            self.write(f"{self.desc} step {step} {split}: {format_values(metrics)}")

    def scalars(self, prefix: str, values: Mapping[str, float], step: int) -> None:
        if self.writer is not None:
            for key, value in values.items():
                self.writer.add_scalar(f"{prefix}/{key}", value, step)

    def write(self, line: str) -> None:
        if self.lines:
            print(line, flush=True)  # a log file gets each line as it happens
        else:
            self.bar.write(line)  # above the bar, which is redrawn below it

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
            self.writer = None
