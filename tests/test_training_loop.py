"""The conventions both training loops share (aalbert.training_loop): signals, the non-finite policy,
gradient clipping. Each loop's own tests (tests/pretrain/test_trainer.py, tests/downstream/) check
that it follows them."""

import os
import signal

import pytest
import torch

from aalbert.training_loop import (
    NON_FINITE_LIMIT,
    NonFiniteSteps,
    NonFiniteTrainingError,
    TrainingState,
    clip_gradients,
    stop_on_signals,
)


def test_sigterm_is_an_interrupt_inside_the_loop_only():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt):
        with stop_on_signals():
            os.kill(os.getpid(), signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before  # the caller's handler is back


def test_non_finite_policy_skips_then_stops_after_the_limit():
    guard = NonFiniteSteps(lambda: "exp/states-4.ckpt")
    assert guard.apply(1, 0.5, 1.0)
    for step in range(2, 1 + NON_FINITE_LIMIT):
        with pytest.warns(UserWarning, match=f"step {step}: non-finite"):
            assert not guard.apply(step, float("nan"), 1.0)
    assert guard.apply(NON_FINITE_LIMIT + 1, 0.4, 2.0)  # a good step resets the count
    for step in range(NON_FINITE_LIMIT + 2, 2 * NON_FINITE_LIMIT + 1):
        with pytest.warns(UserWarning):
            guard.apply(step, 0.4, float("inf"))
    with pytest.raises(NonFiniteTrainingError, match=r"in a row .*Last checkpoint: exp/states-4\.ckpt"):
        guard.apply(2 * NON_FINITE_LIMIT + 1, float("nan"), float("nan"))
    assert guard.total == 2 * NON_FINITE_LIMIT - 1


def test_clipping_zero_means_none_and_the_norm_is_measured_either_way():
    layer = torch.nn.Linear(3, 1, bias=False)
    layer.weight.grad = torch.full((1, 3), 4.0)
    assert clip_gradients(layer.parameters(), 0.0) == pytest.approx(48**0.5)
    assert torch.equal(layer.weight.grad, torch.full((1, 3), 4.0))
    assert clip_gradients(layer.parameters(), 1.0) == pytest.approx(48**0.5)
    assert layer.weight.grad.norm().item() == pytest.approx(1.0, rel=1e-4)


def test_state_is_plain_data():
    state = TrainingState(step=3, epoch=1, position=2, best_metric=0.5, best_dev={"accuracy": 0.5})
    assert TrainingState(**state.as_dict()) == state
