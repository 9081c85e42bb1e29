"""Upstream + featurizer + expert as one module, so the optimizer, DDP and checkpoints see one thing."""

from __future__ import annotations

import torch
from torch import nn

from .data import Batch
from .expert import Expert, StepOutput
from .feature_cache import FeatureCache
from .featurizer import Featurizer


class DownstreamModel(nn.Module):
    def __init__(self, upstream: nn.Module, featurizer: Featurizer, expert: Expert, finetune: bool):
        super().__init__()
        self.upstream = upstream
        self.featurizer = featurizer
        self.expert = expert
        self.finetune = finetune
        # set by the runner for a frozen upstream: hidden states are read instead of recomputed
        self.feature_cache: FeatureCache | None = None
        if not finetune:
            upstream.requires_grad_(False)
            upstream.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.finetune:
            # a frozen upstream always runs as at inference (no dropout), whatever the expert does
            self.upstream.eval()
        return self

    def forward(self, batch: Batch) -> StepOutput:
        device = next(self.expert.parameters()).device
        if self.feature_cache is not None:
            hidden_states, lengths = self.feature_cache.padded(batch.uttids, device)
        else:
            wavs = [w.to(device) for w in batch.wavs]
            if self.finetune:
                out = self.upstream(wavs)
            else:
                # no_grad rather than inference_mode: the featurizer's weights still need gradients
                # through ops that take these outputs as inputs, which inference tensors forbid
                with torch.no_grad():
                    out = self.upstream(wavs)
            hidden_states, lengths = out["hidden_states"], out["lengths"]
        features = self.featurizer(hidden_states)
        return self.expert(features, lengths.to(device), batch)

    def trainable_state(self) -> dict[str, dict]:
        """What a checkpoint must hold: the trained parts only (a frozen upstream is reloaded by name)."""
        state = {"featurizer": self.featurizer.state_dict(), "expert": self.expert.state_dict()}
        if self.finetune:
            state["upstream"] = self.upstream.state_dict()
        return state

    def load_trainable_state(self, state: dict[str, dict]) -> None:
        self.featurizer.load_state_dict(state["featurizer"])
        self.expert.load_state_dict(state["expert"])
        if self.finetune:
            if "upstream" not in state:
                raise KeyError("checkpoint has no fine-tuned upstream weights but this run fine-tunes (-f)")
            self.upstream.load_state_dict(state["upstream"])
