"""Checks of a task's declarations, run before its first training step.

What is checked, each failure a ``TaskRequirementError`` naming the task:

* declarations (:func:`check_declarations`, before the corpus is read): the ``labels`` and
  ``split_policy`` the task declares, read as the corpus loader will read them (``task_data``):
  known label names and split policy, speaker classes with a per-speaker split; a main metric name;
* the corpus (in ``load_corpus``): the labels and metadata the task reads, a split it can make;
* one dev batch through the model (:func:`check_first_batch`): ``metrics`` gives the main metric,
  and the head's output size (``StepOutput.logits``) matches the label set.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, NoReturn

import torch

from aalbert.errors import TaskRequirementError

from .expert import add_counts
from .task_labels import task_data

if TYPE_CHECKING:
    from .expert import Expert

SPLIT_POLICIES = ("per_speaker", "disjoint_speakers")


def check_declarations(task: str, expert_class: type[Expert], labels: tuple[str, ...] | list[str] = ()) -> None:
    """The expert's declarations (``labels``: the run's, when its config names them), before anything is loaded."""

    def fail(problem: str) -> NoReturn:
        raise TaskRequirementError(f"task {task} ({expert_class.__module__}.{expert_class.__name__}): {problem}")

    config = getattr(expert_class, "Config", None)
    if not (isinstance(config, type) and dataclasses.is_dataclass(config)):
        fail("Expert.Config must be a dataclass (the fields of the model: section)")
    if not isinstance(expert_class.main_metric, str) or not expert_class.main_metric:
        fail(f"main_metric must name a key of metrics(), got {expert_class.main_metric!r}")
    if not isinstance(expert_class.higher_is_better, bool):
        fail(f"higher_is_better must be True or False, got {expert_class.higher_is_better!r}")
    labels = tuple(labels) or expert_class.labels
    if not isinstance(labels, (tuple, list)) or not all(isinstance(label, str) for label in labels):
        fail(f"labels must be a tuple of label names, e.g. ('speaker',), got {labels!r}")
    if expert_class.split_policy not in SPLIT_POLICIES:
        fail(f"split_policy {expert_class.split_policy!r} is not one of {', '.join(SPLIT_POLICIES)}")
    try:
        needs = task_data(labels, expert_class.split_policy, task)
    except TaskRequirementError as err:
        fail(str(err))
    if needs.speaker_classes and needs.split_policy != "per_speaker":
        fail(
            "predicts speakers (reads the label 'speaker') but its split policy puts test speakers outside "
            "train; use split_policy = 'per_speaker'"
        )


@torch.no_grad()
def check_first_batch(task: str, model, loader) -> None:
    """One batch through the model in eval mode: the main metric exists and the head fits its labels."""
    expert = model.expert
    batch = next(iter(loader), None)
    if batch is None:
        return
    was_training = model.training
    model.eval()
    try:
        out = model(batch)
    finally:
        model.train(was_training)
    metrics = expert.metrics(add_counts({}, out.counts))
    if expert.main_metric not in metrics:
        raise TaskRequirementError(
            f"task {task}: main_metric {expert.main_metric!r} is not among the metrics "
            f"its Expert.metrics gives ({', '.join(sorted(metrics)) or 'none'})"
        )
    expected = getattr(expert, "output_classes", None)
    if out.logits is not None and expected is not None and out.logits.shape[-1] != expected:
        raise TaskRequirementError(
            f"task {task}: its head outputs {out.logits.shape[-1]} classes but the label set has {expected}"
        )
