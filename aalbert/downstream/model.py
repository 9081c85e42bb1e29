"""Upstream + featurizer + expert as one module, so the optimizer, DDP and checkpoints see one thing."""

from __future__ import annotations

import torch
from torch import nn

from .data import Batch
from .expert import Expert, StepOutput
from .feature_cache import FeatureCache
from .featurizer import Featurizer


class DownstreamModel(nn.Module):
    """``upstream`` None: the hidden states always come from ``feature_cache`` (probes train on
    features computed once, after the upstream is gone)."""

    def __init__(
        self,
        upstream: nn.Module | None,
        featurizer: Featurizer,
        expert: Expert,
        finetune: bool,
        feature_cache: FeatureCache | None = None,
    ):
        super().__init__()
        if upstream is None and (feature_cache is None or finetune):
            raise ValueError("a downstream model without an upstream needs a feature cache and no fine-tuning")
        self.upstream = upstream
        self.featurizer = featurizer
        self.expert = expert
        self.finetune = finetune
        # a frozen upstream's hidden states, read instead of recomputed (set by the runner or given)
        self.feature_cache = feature_cache
        if not finetune and upstream is not None:
            upstream.requires_grad_(False)
            upstream.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if not self.finetune and self.upstream is not None:
            # a frozen upstream always runs as at inference (no dropout), whatever the expert does
            self.upstream.eval()
        return self

    def _upstream(self) -> nn.Module:
        # __init__ accepts no upstream only with a feature cache and no fine-tuning
        if self.upstream is None:
            raise ValueError("this downstream model has no upstream: its hidden states must come from feature_cache")
        return self.upstream

    def forward(self, batch: Batch) -> StepOutput:
        device = next(self.expert.parameters()).device
        if self.feature_cache is not None:
            hidden_states, lengths = self.feature_cache.padded(batch.uttids, device, self.featurizer.used_states())
        else:
            wavs = [w.to(device) for w in batch.wavs]
            upstream = self._upstream()
            if self.finetune:
                out = upstream(wavs)
            else:
                # no_grad rather than inference_mode: the featurizer's weights still need gradients
                # through ops that take these outputs as inputs, which inference tensors forbid
                with torch.no_grad():
                    out = upstream(wavs)
            hidden_states, lengths = out["hidden_states"], out["lengths"]
        lengths = lengths.to(device)
        features = self.featurizer(hidden_states, lengths)
        return self.expert(features, lengths, batch)

    def trainable_state(self) -> dict[str, dict]:
        """What a checkpoint must hold: the trained parts only (a frozen upstream is reloaded by name)."""
        state = {"featurizer": self.featurizer.state_dict(), "expert": self.expert.state_dict()}
        if self.finetune:
            state["upstream"] = self._upstream().state_dict()
        return state

    def load_trainable_state(self, state: dict[str, dict], upstream_optional: bool = False) -> None:
        """``upstream_optional``: a checkpoint of a frozen upstream may start a run that fine-tunes it
        (s3prl's -i: the upstream then keeps its own weights)."""
        self.featurizer.load_state_dict(state["featurizer"])
        self.expert.load_state_dict(state["expert"])
        if self.finetune:
            if "upstream" not in state:
                if upstream_optional:
                    return
                raise KeyError("checkpoint has no fine-tuned upstream weights but this run fine-tunes (-f)")
            self._upstream().load_state_dict(state["upstream"])
