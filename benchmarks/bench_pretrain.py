"""One pretraining step, ours vs s3prl's Mockingjay, same model size and batch, side by side.

A step = forward, masked L1 loss, backward, AdamW update; paper-size 3-layer model (hidden 768,
12 heads, FFN 3072), no frame stacking, a batch of 8 x 5 s (501 frames, 80-dim log-mel in,
201-dim linear target). Features and masks are computed once and shared: both sides train on
identical tensors. Runs alternate A/B/A/B so machine load hits both alike. Each step's wall time
and its process CPU time are printed (CPU time counts this process only, so it moves less when
other processes share the cores; both sides are measured the same way).

Where ours saves work, the loss and gradients stay s3prl's (tests/pretrain/test_objective_parity.py):
the last layer computes queries, attention output and feed-forward for the masked frames only, the
head runs on those frames only (s3prl runs both on every frame, then selects), and on CPU the
dropout masks come from one fast generator and the attention-probability dropout is one autograd
function with an in-place backward instead of SDPA's math fallback (aalbert.upstream.dropout).

``--attention-dropout`` (both sides; default 0.1 as in the paper) shows what the dropout on
attention probabilities costs on CPU: it needs the (B, heads, T, T) matrix and a random number
per entry, so neither side can use a fused attention kernel; at 0 ours takes SDPA's fused path.
``--bf16`` adds ours under bfloat16 autocast (the recipe's ``runner.bf16``), reported apart from
fp32: fast only on CPUs with bf16 instructions (AVX512-BF16, AMX). ``--profile N`` prints the N
costliest operators of one step of each side (torch.profiler, self CPU time).

    python benchmarks/bench_pretrain.py [--threads 2] [--rounds 3] [--layers 3] [--attention-dropout 0.1]
        [--bf16] [--profile 15]
"""

from __future__ import annotations

import argparse
import contextlib
import time

import torch
import torch.nn.functional as F

from aalbert.pretrain.config import PretrainOptimizerConfig
from aalbert.pretrain.loss import l1_loss
from aalbert.pretrain.masking import mask_batch
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.schedule import build_optimizer
from aalbert.upstream.components import sinusoid_positions
from aalbert.upstream.model import TransformerEncoder, build_spec_head
from aalbert.upstream.model_config import TransformerConfig


def make_batch(batch: int, frames: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, frames, 80, generator=gen)
    targets = torch.randn(batch, frames, 201, generator=gen)
    lengths = torch.full((batch,), frames, dtype=torch.long)
    masked = mask_batch(inputs, lengths, 0.15, 7, generator=gen)
    return masked.inputs, masked.mask, targets, lengths


class Ours:
    name = "aalbert"

    def __init__(self, layers: int, attention_dropout: float, bf16: bool = False):
        cfg = TransformerConfig(num_hidden_layers=layers, attention_probs_dropout_prob=attention_dropout)
        self.model = MaskedAcousticModel(TransformerEncoder(cfg), build_spec_head(cfg, 201)).train()
        self.opt = build_optimizer(self.model, PretrainOptimizerConfig(lr=2e-4, weight_decay=0.01))
        self.bf16 = bf16
        if bf16:
            self.name = "aalbert-bf16"

    def step(self, inputs, mask, targets, lengths) -> float:
        # as Trainer._forward: autocast around the model, the loss in fp32
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if self.bf16 else contextlib.nullcontext()
        with autocast:
            pred, _ = self.model(inputs, lengths, mask)
        loss = l1_loss(pred, targets[mask])
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach())


class S3prl:
    name = "s3prl"

    def __init__(self, layers: int, attention_dropout: float):
        from s3prl.upstream.mockingjay.model import TransformerConfig as S3Config
        from s3prl.upstream.mockingjay.model import TransformerModel, TransformerSpecPredictionHead

        cfg = S3Config(
            {
                "hidden_size": 768,
                "num_hidden_layers": layers,
                "num_attention_heads": 12,
                "hidden_act": "gelu",
                "intermediate_size": 3072,
                "hidden_dropout_prob": 0.1,
                "attention_probs_dropout_prob": attention_dropout,
                "initializer_range": 0.02,
                "layer_norm_eps": 1e-12,
                "share_layer": False,
                "pre_layer_norm": False,
            }
        )
        self.model = TransformerModel(cfg, 80).train()
        self.head = TransformerSpecPredictionHead(cfg, 201).train()
        params = list(self.model.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.AdamW(params, lr=2e-4, weight_decay=0.01)
        self.hidden = 768

    def step(self, inputs, mask, targets, lengths) -> float:
        # what s3prl's masked acoustic model does: full-sequence head, masked_select L1
        B, T, _ = inputs.shape
        pos = sinusoid_positions(T, self.hidden).expand(B, T, self.hidden)
        attn = (torch.arange(T)[None, :] < lengths[:, None]).float()
        hidden = self.model(inputs, pos, attn, output_all_encoded_layers=False)
        pred, _ = self.head(hidden)
        label = mask[..., None].expand_as(pred)
        loss = F.l1_loss(pred.masked_select(label), targets.masked_select(label))
        loss.backward()
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        return float(loss.detach())


def median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def profile_step(side, batch, top: int) -> None:
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        side.step(*batch)
    print(f"\n{side.name}: the {top} costliest operators of one step (self CPU time)")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=top))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="timed A/B rounds (after one warm-up step each)")
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--attention-dropout", type=float, default=0.1)
    p.add_argument("--bf16", action="store_true", help="also time ours under bfloat16 autocast")
    p.add_argument("--profile", type=int, default=0, metavar="N", help="print each side's N costliest operators")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    frames = int(args.seconds * 100) + 1
    batch = make_batch(args.batch, frames)
    sides = [Ours(args.layers, args.attention_dropout), S3prl(args.layers, args.attention_dropout)]
    if args.bf16:
        sides.append(Ours(args.layers, args.attention_dropout, bf16=True))
    for side in sides:  # warm-up: allocator, kernels, optimizer state
        side.step(*batch)
    wall: dict[str, list[float]] = {side.name: [] for side in sides}
    cpu: dict[str, list[float]] = {side.name: [] for side in sides}
    for _ in range(args.rounds):
        for side in sides:
            start, start_cpu = time.perf_counter(), time.process_time()
            side.step(*batch)
            wall[side.name].append(time.perf_counter() - start)
            cpu[side.name].append(time.process_time() - start_cpu)
    print(
        f"one pretraining step, {args.layers} layers, {args.batch} x {args.seconds:g} s ({frames} frames), "
        f"attention dropout {args.attention_dropout:g}, {args.threads} threads, {args.rounds} rounds A/B"
    )
    for name in wall:
        print(
            f"  {name:12s} median {median(wall[name]):.2f} s/step wall, {median(cpu[name]):.2f} s CPU"
            f"  (wall: {', '.join(f'{t:.2f}' for t in wall[name])})"
        )
    for name in (n for n in wall if n != "s3prl"):
        print(
            f"  speed-up of {name} over s3prl: {median(wall['s3prl']) / median(wall[name]):.2f}x wall, "
            f"{median(cpu['s3prl']) / median(cpu[name]):.2f}x CPU time"
        )
    for side in sides if args.profile else []:
        profile_step(side, batch, args.profile)


if __name__ == "__main__":
    main()
