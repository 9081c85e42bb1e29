"""One pretraining step, ours vs s3prl's Mockingjay, same model size and batch, side by side.

A step = forward, masked L1 loss, backward, AdamW update; paper-size 3-layer model (hidden 768,
12 heads, FFN 3072), no frame stacking, a batch of 8 x 5 s (501 frames, 80-dim log-mel in,
201-dim linear target). Features and masks are computed once and shared: both sides train on
identical tensors. Runs alternate A/B/A/B so machine load hits both alike.

``--attention-dropout`` (both sides; default 0.1 as in the paper) shows what the dropout on
attention probabilities costs on CPU: it needs the (B, heads, T, T) matrix and a random number
per entry, so neither side can use a fused attention kernel; at 0 ours takes SDPA's fused path.

    python benchmarks/bench_pretrain.py [--threads 2] [--rounds 3] [--layers 3] [--attention-dropout 0.1]
"""

from __future__ import annotations

import argparse
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

    def __init__(self, layers: int, attention_dropout: float):
        cfg = TransformerConfig(num_hidden_layers=layers, attention_probs_dropout_prob=attention_dropout)
        self.model = MaskedAcousticModel(TransformerEncoder(cfg), build_spec_head(cfg, 201)).train()
        self.opt = build_optimizer(self.model, PretrainOptimizerConfig(lr=2e-4, weight_decay=0.01))

    def step(self, inputs, mask, targets, lengths) -> float:
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=3, help="timed A/B rounds (after one warm-up step each)")
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--attention-dropout", type=float, default=0.1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    frames = int(args.seconds * 100) + 1
    batch = make_batch(args.batch, frames)
    sides = [Ours(args.layers, args.attention_dropout), S3prl(args.layers, args.attention_dropout)]
    for side in sides:  # warm-up: allocator, kernels, optimizer state
        side.step(*batch)
    times = {side.name: [] for side in sides}
    for _ in range(args.rounds):
        for side in sides:
            start = time.perf_counter()
            side.step(*batch)
            times[side.name].append(time.perf_counter() - start)
    print(
        f"one pretraining step, {args.layers} layers, {args.batch} x {args.seconds:g} s ({frames} frames), "
        f"attention dropout {args.attention_dropout:g}, {args.threads} threads, {args.rounds} rounds A/B"
    )
    for name, ts in times.items():
        print(f"  {name:8s} median {sorted(ts)[len(ts) // 2]:.2f} s/step  (all: {', '.join(f'{t:.2f}' for t in ts)})")
    ratio = sorted(times["s3prl"])[len(times["s3prl"]) // 2] / sorted(times["aalbert"])[len(times["aalbert"]) // 2]
    print(f"  speed-up over s3prl: {ratio:.2f}x")


if __name__ == "__main__":
    main()
