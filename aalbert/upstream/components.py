"""Building blocks of the Mockingjay / Audio ALBERT encoder (BERT-style post-LN Transformer).

Kept flat and small: positions, the input representation, one self-attention block, one
Transformer layer and the spectrogram prediction head. Numerics follow s3prl's reference
model (erf GELU, LayerNorm with the epsilon inside the square root, sinusoid angles computed
in float64) so the same weights give the same hidden states.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from aalbert.upstream.dropout import Dropout, dropout_attention


def gelu(x: Tensor) -> Tensor:
    """Exact (erf) GELU, the form s3prl's model uses (not the tanh approximation)."""
    return F.gelu(x, approximate="none")


ACTIVATIONS = {"gelu": gelu, "relu": F.relu, "swish": F.silu}


def activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"hidden_act must be one of {', '.join(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def sinusoid_positions(length: int, dim: int, device: torch.device | None = None) -> Tensor:
    """(length, dim) table: sin on even, cos on odd dims; angle = pos / 10000 ** (2 * (i // 2) / dim).

    Computed in float64 and cast, like s3prl's numpy table, so long positions keep precision;
    any length works (no fixed maximum).
    """
    pos = torch.arange(length, dtype=torch.float64, device=device)[:, None]
    expo = (2 * (torch.arange(dim, device=device) // 2)).to(torch.float64) / dim
    angle = pos / torch.pow(torch.tensor(10000.0, dtype=torch.float64, device=device), expo)[None, :]
    table = torch.empty_like(angle)
    table[:, 0::2] = angle[:, 0::2].sin()
    table[:, 1::2] = angle[:, 1::2].cos()
    return table.to(torch.float32)


class InputRepresentation(nn.Module):
    """Linear(stacked frames) + sinusoidal positions -> LayerNorm -> dropout."""

    positions: Tensor  # a buffer (registered in __init__)

    def __init__(self, input_dim: int, hidden_size: int, layer_norm_eps: float, dropout: float):
        super().__init__()
        self.spec_transform = nn.Linear(input_dim, hidden_size)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.dropout = Dropout(dropout)
        # grown on demand; not saved (it is a function of the length only)
        self.register_buffer("positions", torch.zeros(0, hidden_size), persistent=False)

    def position_table(self, length: int) -> Tensor:
        if self.positions.size(0) < length:
            # a normal tensor even when first built under inference_mode, so training can reuse it
            with torch.inference_mode(False):
                self.positions = sinusoid_positions(length, self.positions.size(1), self.positions.device)
        return self.positions[:length]

    def forward(self, feats: Tensor) -> Tensor:
        x = self.spec_transform(feats) + self.position_table(feats.size(1)).to(feats.dtype)
        return self.dropout(self.layer_norm(x))


class SelfAttention(nn.Module):
    """Multi-head self-attention with one fused QKV projection, through SDPA.

    ``mask`` is a boolean (B, 1, 1, T) key-padding mask, True = attend; every utterance has at
    least one valid frame, so no row is fully masked and no NaN can appear. Attention
    probabilities are materialised only when asked for (analysis tools) or when dropped out in
    training on CPU (aalbert.upstream.dropout); otherwise SDPA picks a fused kernel that never stores
    the (T, T) matrix. ``queries`` (B, Q, H): the inputs of the only positions whose output is
    wanted (keys and values still come from every frame of ``x``); the output is then (B, Q, H).
    """

    def __init__(self, hidden_size: int, num_heads: int, dropout: float):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden_size ({hidden_size}) is not a multiple of num_attention_heads ({num_heads})")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.qkv = nn.Linear(hidden_size, 3 * hidden_size)
        self.out = nn.Linear(hidden_size, hidden_size)
        self.dropout = dropout

    def forward(
        self, x: Tensor, mask: Tensor | None, output_attentions: bool = False, queries: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        B, T, H = x.shape
        heads = (self.num_heads, self.head_dim)
        if queries is None:
            q, k, v = self.qkv(x).view(B, T, 3, *heads).permute(2, 0, 3, 1, 4)
        else:
            # the rows of the fused projection: queries only where asked, keys and values everywhere
            w, b = self.qkv.weight, self.qkv.bias
            q = F.linear(queries, w[:H], b[:H]).view(B, -1, *heads).transpose(1, 2)
            k, v = F.linear(x, w[H:], b[H:]).view(B, T, 2, *heads).permute(2, 0, 3, 1, 4)
        dropout = self.dropout if self.training else 0.0
        probs = None
        if output_attentions:
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.head_dim)
            if mask is not None:
                scores = scores.masked_fill(~mask, float("-inf"))
            probs = scores.softmax(dim=-1)
            ctx = F.dropout(probs, dropout, self.training) @ v
        elif 0 < dropout < 1 and x.device.type == "cpu":
            ctx = dropout_attention(q, k, v, mask, dropout)
        else:
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        ctx = ctx.transpose(1, 2).reshape(B, q.size(2), H)
        return self.out(ctx), probs


class TransformerLayer(nn.Module):
    """Post-LN BERT layer: x = LN(x + drop(attn(x))); x = LN(x + drop(ffn(x)))."""

    def __init__(
        self,
        hidden_size: int,
        num_heads: int,
        intermediate_size: int,
        hidden_act: str,
        hidden_dropout: float,
        attention_dropout: float,
        layer_norm_eps: float,
    ):
        super().__init__()
        self.attention = SelfAttention(hidden_size, num_heads, attention_dropout)
        self.attention_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.ffn_in = nn.Linear(hidden_size, intermediate_size)
        self.ffn_out = nn.Linear(intermediate_size, hidden_size)
        self.ffn_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.act = activation(hidden_act)
        self.dropout = Dropout(hidden_dropout)

    def forward(
        self, x: Tensor, mask: Tensor | None, output_attentions: bool = False, queries: Tensor | None = None
    ) -> tuple[Tensor, Tensor | None]:
        """``queries`` (B, Q) frame indices: the output at those frames only, (B, Q, H) (each output
        frame depends on the whole sequence through attention only, so this is exact)."""
        if queries is not None:
            picked = x.gather(1, queries[..., None].expand(-1, -1, x.size(-1)))
            attn, probs = self.attention(x, mask, output_attentions, picked)
            x = picked
        else:
            attn, probs = self.attention(x, mask, output_attentions)
        x = self.attention_norm(x + self.dropout(attn))
        x = self.ffn_norm(x + self.dropout(self.ffn_out(self.act(self.ffn_in(x)))))
        return x, probs


class SpecPredictionHead(nn.Module):
    """Pretraining head: dense -> act -> LayerNorm -> linear to output_dim * stacking (one frame per stacked input)."""

    def __init__(
        self,
        hidden_size: int,
        output_dim: int,
        stacking: int = 1,
        hidden_act: str = "gelu",
        layer_norm_eps: float = 1e-12,
    ):
        super().__init__()
        self.output_dim = output_dim
        self.stacking = stacking
        self.dense = nn.Linear(hidden_size, hidden_size)
        self.act = activation(hidden_act)
        self.layer_norm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.output = nn.Linear(hidden_size, output_dim * stacking)

    def forward(self, hidden: Tensor) -> Tensor:
        return self.output(self.layer_norm(self.act(self.dense(hidden))))


def init_bert_weights(module: nn.Module, std: float) -> None:
    """BERT init: normal(0, std) for Linear weights, zero biases, LayerNorm ones/zeros."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.LayerNorm):
        nn.init.ones_(module.weight)
        nn.init.zeros_(module.bias)
