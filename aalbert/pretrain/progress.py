"""What a pretraining run shows while it trains: the progress bar and rank 0's TensorBoard log.

Every ``runner.log_step`` steps the bar shows the loss averaged over the steps since the last report,
and TensorBoard gets that mean, the learning rate, the gradient norm and the count of skipped
audio files; every ``runner.image_step`` steps, a figure of one utterance's masked input, prediction
and target.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from tqdm import tqdm


@dataclass
class StepResult:
    loss: float
    grad_norm: float
    lr: float


class TrainingLog:
    def __init__(self, logdir: Path | None, total_steps: int, step: int, show_bar: bool):
        """``logdir``: where TensorBoard events go (None on ranks other than 0: they write nothing)."""
        self.bar = tqdm(
            total=total_steps, initial=step, disable=not show_bar, dynamic_ncols=True, desc="pretrain", unit="step"
        )
        self.writer = None
        if logdir is not None:
            from tensorboardX import SummaryWriter  # imported late: only rank 0 writes logs

            self.writer = SummaryWriter(str(logdir))
        self.window: list[float] = []  # losses since the last report

    def step_done(self, step: int, result: StepResult, skipped_files: int, report: bool) -> None:
        """One optimizer step is done; ``report``: show and write the mean loss since the last report."""
        self.bar.update(1)
        self.window.append(result.loss)
        if not report:
            return
        mean = sum(self.window) / len(self.window)
        self.window = []
        self.bar.set_postfix(loss=f"{mean:.4f}", lr=f"{result.lr:.2e}", refresh=False)
        if self.writer is not None:
            self.writer.add_scalar("train/loss", mean, step)
            self.writer.add_scalar("train/lr", result.lr, step)
            self.writer.add_scalar("train/grad_norm", result.grad_norm, step)
            self.writer.add_scalar("data/skipped_files", skipped_files, step)

    def spectrograms(self, step: int, head: nn.Module, parts: dict, stacking: int) -> None:
        """The first utterance of ``parts`` (Trainer._forward's): masked input, prediction, target."""
        if self.writer is None:
            return
        from aalbert.pretrain.visualize import spectrogram_figure  # matplotlib only when images are due

        n = int(parts["lengths"][0])
        with torch.no_grad():
            pred = head(parts["hidden"][0, :n].float())
        unstack = lambda x: x.reshape(n * stacking, -1)  # noqa: E731
        fig = spectrogram_figure(
            unstack(parts["masked"][0, :n]), unstack(pred), unstack(parts["targets"][0, :n]), title=f"(step {step})"
        )
        self.writer.add_figure("train/spectrograms", fig, step)

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
