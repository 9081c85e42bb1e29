"""aalbert.distributed in a single process: every helper is a no-op that returns its input.

The multi-process paths run under torchrun in tests/pretrain/test_distributed.py and
tests/downstream/test_ddp_downstream.py."""

import torch

from aalbert import distributed as dist


def test_single_process_helpers(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert dist.init_distributed("cpu") == torch.device("cpu")
    assert (dist.rank(), dist.world_size(), dist.is_main()) == (0, 1, True)
    values = torch.tensor([1.0, 2.0])
    assert dist.all_reduce_sum(values) is values and values.tolist() == [1.0, 2.0]
    assert dist.all_gather_objects({"a": 1}) == [{"a": 1}]
    assert dist.broadcast_object("x") == "x"
    dist.barrier()
    dist.cleanup()


def test_auto_device_is_cuda_only_when_available(monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dist.init_distributed("auto") == torch.device("cpu")
    assert dist.init_distributed(None) == torch.device("cpu")
