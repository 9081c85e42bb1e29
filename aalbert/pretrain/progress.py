"""What a pretraining run shows while it trains: the shared training log (aalbert.training_log: the
bar or, with ``--no-progress``, one plain line per ``runner.log_step``, and rank 0's TensorBoard log)
plus pretraining's own figures.

Every ``runner.log_step`` steps the loss averaged over the steps since the last report, the learning
rate and the gradient norm are reported, and TensorBoard also gets the count of skipped audio files;
every ``runner.image_step`` steps, a figure of one utterance's masked input, prediction and target.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from aalbert import training_log


@dataclass
class StepResult:
    loss: float
    grad_norm: float
    lr: float


class TrainingLog(training_log.TrainingLog):
    def step_result(self, step: int, result: StepResult, skipped_files: int, report: bool) -> None:
        """One optimizer step is done; ``report``: show and write the mean loss since the last report."""
        self.step_done(result.loss)
        if report:
            self.report(step, {"lr": result.lr, "grad_norm": result.grad_norm})
            self.scalars("data", {"skipped_files": skipped_files}, step)

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
