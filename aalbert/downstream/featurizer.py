"""Turning an upstream's hidden states into the one feature sequence a task sees.

``weighted_sum`` learns one scalar per hidden state, softmax-normalised so the weights stay
comparable across runs and can be read as "how much the task uses each layer" (they are saved
with the results). ``last`` and ``hidden_states`` (with a layer index) pick a single state.
An upstream without layers (fbank: one hidden state) always selects that one.

Before weighting, each hidden state may be normalised, the same way for every upstream (so a
baseline gets the treatment a pretrained model gets): ``cmvn`` per utterance over its valid frames
(on fbank: log-mel with per-utterance CMVN), ``layer_norm`` per frame over its dimensions; with
both, CMVN first.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aalbert.errors import BadInputError
from aalbert.upstream.features import utterance_cmvn

MODES = ("weighted_sum", "last", "hidden_states")


class Featurizer(nn.Module):
    def __init__(
        self,
        num_hidden_states: int,
        mode: str = "weighted_sum",
        layer: int | None = None,
        layer_norm: bool = False,
        cmvn: bool = False,
    ):
        super().__init__()
        if mode not in MODES:
            raise BadInputError(f"unknown feature selection {mode!r}; choose one of {', '.join(MODES)}")
        if num_hidden_states < 1:
            raise BadInputError(f"an upstream must give at least one hidden state, got {num_hidden_states}")
        self.num_hidden_states = num_hidden_states
        self.layer_norm = layer_norm
        self.cmvn = cmvn
        if mode == "hidden_states":
            if layer is None:
                raise BadInputError("feature selection hidden_states needs a layer index (-l LAYER)")
            if not -num_hidden_states <= layer < num_hidden_states:
                raise BadInputError(
                    f"layer {layer} out of range: this upstream has {num_hidden_states} hidden "
                    f"states (0 = input representation .. {num_hidden_states - 1} = last layer)"
                )
            layer %= num_hidden_states
        elif mode == "last":
            layer = num_hidden_states - 1
        if num_hidden_states == 1:
            # nothing to weigh: a learned weight over one state is always 1
            mode, layer = "hidden_states", 0
        self.mode = mode
        self.layer = layer
        # zeros -> uniform softmax at the start: no layer is favoured before training
        self.weights = nn.Parameter(torch.zeros(num_hidden_states)) if mode == "weighted_sum" else None

    def used_states(self) -> list[int]:
        """The hidden states ``forward`` reads; the others may be passed as None."""
        return list(range(self.num_hidden_states)) if self.weights is not None else [self._selected_layer()]

    def _selected_layer(self) -> int:
        # without weights __init__ has picked one state (given, last, or the only one)
        assert self.layer is not None
        return self.layer

    def forward(self, hidden_states: list[torch.Tensor | None], lengths: torch.Tensor | None = None) -> torch.Tensor:
        """``lengths``: each utterance's valid frames in the hidden states (needed with ``cmvn``)."""
        if len(hidden_states) != self.num_hidden_states:
            raise BadInputError(f"expected {self.num_hidden_states} hidden states, got {len(hidden_states)}")
        if self.weights is None:
            return self._normed_state(hidden_states, self._selected_layer(), lengths)
        states = [self._normed_state(hidden_states, i, lengths) for i in range(len(hidden_states))]
        return weighted_sum(states, F.softmax(self.weights, dim=0))

    def _normed_state(
        self, hidden_states: list[torch.Tensor | None], i: int, lengths: torch.Tensor | None
    ) -> torch.Tensor:
        h = hidden_states[i]
        if h is None:
            raise BadInputError(f"hidden state {i} was passed as None, but this featurizer reads it")
        return normalised_state(h, lengths, layer_norm=self.layer_norm, cmvn=self.cmvn)

    def layer_weights(self) -> list[float]:
        """Softmax weight of each hidden state (one-hot when a single state is selected)."""
        if self.weights is None:
            return [1.0 if i == self.layer else 0.0 for i in range(self.num_hidden_states)]
        return F.softmax(self.weights.detach().float(), dim=0).tolist()

    def describe(self) -> dict:
        return {
            "mode": self.mode,
            "layer": self.layer,
            "layer_norm": self.layer_norm,
            "cmvn": self.cmvn,
            "layer_weights": self.layer_weights(),
        }


def weighted_sum(states: list[torch.Tensor], weights: torch.Tensor) -> torch.Tensor:
    """sum_i weights[i] * states[i] over (B, T, H) states (also what ``aalbert extract --weighted-sum`` writes)."""
    stacked = torch.stack(states, dim=0)  # (L+1, B, T, H)
    return (weights.to(stacked.dtype).view(-1, 1, 1, 1) * stacked).sum(dim=0)


def normalised_state(h: torch.Tensor, lengths: torch.Tensor | None, layer_norm: bool, cmvn: bool) -> torch.Tensor:
    """One hidden state as the featurizer weighs it (also what ``aalbert extract --weighted-sum`` sums)."""
    if cmvn:
        if lengths is None:
            raise BadInputError("featurizer.cmvn normalises over each utterance's valid frames: pass the lengths")
        h = utterance_cmvn(h, lengths)
    return F.layer_norm(h, h.shape[-1:]) if layer_norm else h
