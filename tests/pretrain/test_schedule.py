import pytest
import torch

from aalbert.pretrain.config import PretrainOptimizerConfig, PretrainRunnerConfig
from aalbert.pretrain.schedule import WarmupLinear, build_optimizer, build_scheduler, param_groups


def test_warmup_then_linear_decay():
    f = WarmupLinear(10, 100)
    values = [f(s) for s in range(101)]
    assert values[0] < values[5] < values[9] < 1.0
    assert values[10] == pytest.approx(1.0)
    assert values[55] == pytest.approx(0.5)
    assert values[100] == 0.0
    assert all(a >= b for a, b in zip(values[10:], values[11:]))


def test_scheduler_follows_config_and_round_trips():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    cfg, runner = PretrainOptimizerConfig(lr=1e-3, warmup_proportion=0.07), PretrainRunnerConfig(total_steps=100)
    opt = build_optimizer(model, cfg)
    sched = build_scheduler(opt, cfg, runner)
    lrs = []
    for _ in range(100):
        lrs.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    assert max(lrs) == pytest.approx(1e-3) and lrs.index(max(lrs)) == 7
    fresh = build_scheduler(build_optimizer(model, cfg), cfg, runner)
    fresh.load_state_dict(sched.state_dict())
    assert fresh.get_last_lr() == sched.get_last_lr()


def test_no_weight_decay_on_biases_and_norms():
    model = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.LayerNorm(4))
    decay, no_decay = param_groups(model, 0.01)
    assert len(decay["params"]) == 1 and decay["params"][0] is model[0].weight
    assert len(no_decay["params"]) == 3 and no_decay["weight_decay"] == 0.0
