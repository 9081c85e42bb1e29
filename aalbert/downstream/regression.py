"""A reusable utterance-level regression head over any numeric label.

Pooling (mean, or attentive statistics) -> MLP -> one number per utterance, trained with MSE or L1
on the first of the run's labels, which must be numeric (``utterance.FIELD:numeric``, e.g. a score
from a metadata file, or ``speaker.FIELD:numeric``, e.g. an age). Targets are z-scored with the
train split's mean and standard deviation (``normalize_targets``) so one learning rate suits an age
in years and a score in [0, 1]; predictions are mapped back before the metrics, which are therefore
in the target's units: Pearson and Spearman correlation, MSE and MAE over the whole split (each
step's counts are the predictions and targets themselves: lists, concatenated over batches).

The built-in task ``utterance_regression`` is this head plus a config naming the label::

    labels: [utterance.score:numeric]      # or -o labels=[speaker.age:numeric]
    data:
      metadata:
        - {path: scores.csv, per: utterance, key: uttid}
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from aalbert.errors import BadInputError, TaskRequirementError

from .data import Batch
from .expert import Expert, MLPHeadConfig, StepOutput, TaskContext
from .metrics.correlation import regression_metrics
from .pooling import make_pooling
from .task_labels import metadata_value, parse_label, utterance_field

LOSSES = {"mse": F.mse_loss, "l1": F.l1_loss}


@dataclass
class UtteranceRegressionConfig(MLPHeadConfig):
    pooling: str = "mean"  # "mean" or "attentive" (attentive statistics pooling)
    loss: str = "mse"  # "mse" or "l1" (robust to a few far-off targets)
    # z-score the target with the train split's mean and std (predictions are mapped back for the metrics)
    normalize_targets: bool = True


class UtteranceRegressionExpert(Expert):
    Config = UtteranceRegressionConfig
    labels = (utterance_field("score", numeric=True),)  # the run's labels (config `labels:`) replace it
    split_policy = "per_speaker"
    main_metric = "pearson"
    higher_is_better = True

    def __init__(self, context: TaskContext, config: dict):
        super().__init__(context, config)
        self.label = self.labels[0]
        spec = parse_label(self.label)
        if not spec.numeric:
            metadata = spec.kind in ("speaker_metadata", "utterance_metadata")
            field = f"{spec.kind.split('_')[0]}.{spec.field}:numeric" if metadata else "utterance.FIELD:numeric"
            what = field if metadata else f"{field} or speaker.FIELD:numeric"
            raise TaskRequirementError(
                f"task {context.task}: the regression head predicts a number, but its label {self.label} is not "
                f"numeric: write {what} (the task config's labels:, or -o labels=[{field}])"
            )
        if self.config.loss not in LOSSES:
            raise BadInputError(f"model.loss must be one of {', '.join(LOSSES)}, got {self.config.loss!r}")
        mean, std = self.train_statistics() if self.config.normalize_targets else (0.0, 1.0)
        # buffers: saved with the checkpoint, so an evaluation maps predictions back as training did
        self.register_buffer("target_mean", torch.tensor(mean, dtype=torch.float32))
        self.register_buffer("target_std", torch.tensor(std, dtype=torch.float32))
        self.pooling = make_pooling(self.config.pooling, context.input_dim)
        self.regressor = self.config.mlp(self.pooling.output_dim, 1)

    def train_statistics(self) -> tuple[float, float]:
        """Mean and standard deviation of the label over the train split (std 1 when the targets are
        all equal or there are none: nothing to scale, and no division by zero)."""
        values = torch.tensor(train_values(self.context, self.label), dtype=torch.float64)
        if len(values) == 0:
            return 0.0, 1.0
        std = float(values.std(unbiased=False))
        return float(values.mean()), std if std > 0 else 1.0

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, batch: Batch) -> StepOutput:
        outputs = self.regressor(self.pooling(features, lengths)).squeeze(-1)  # in z-scored units
        targets = batch.labels[self.label].to(device=features.device, dtype=torch.float32)
        mean, std = self.target_mean, self.target_std
        loss = LOSSES[self.config.loss](outputs, (targets - mean) / std)
        predictions = outputs.detach() * std + mean  # back in the target's units
        return StepOutput(loss, {"predictions": predictions.tolist(), "targets": targets.tolist()})

    @staticmethod
    def metrics(counts: dict) -> dict[str, float]:
        # counts.get: a training batch's counts are logged too; empty lists score 0.0 (correlation.py)
        return regression_metrics(counts.get("predictions", []), counts.get("targets", []))


def train_values(context: TaskContext, label: str) -> list[float]:
    """The numeric label's value for every train utterance that has it (parsed and checked before
    the expert is built: a value that is not a number is an error naming its file)."""
    train = context.corpus.splits.get("train", [])
    values = [metadata_value(context.corpus, label, u.uttid, u.speaker) for u in train]
    return [float(v) for v in values if v is not None]
