"""Which hidden states ``aalbert extract`` keeps: each is a *stream*, written to its own sub-folder.

``-l 3`` (or ``-l 0,3``) keeps those hidden states (``layer_03``), ``--layers all`` every one, and
``--weighted-sum EXPDIR`` the learned weighted sum of a trained downstream experiment
(``weighted_sum``): the softmax layer weights its featurizer learned, read from its
``results.json`` (``featurizer.layer_weights``, ``featurizer.layer_norm``, ``featurizer.cmvn``) or, for a run that has
not written one yet, from its checkpoint (``dev-best.ckpt``, else the latest ``states-STEP.ckpt``)
and its ``config.yaml``. The sum is the featurizer's own (aalbert.downstream.featurizer): each state
normalised as the experiment did (per-utterance CMVN, layer norm), weighted, added.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from aalbert.config import ConfigError
from aalbert.downstream.featurizer import normalised_state, weighted_sum
from aalbert.errors import BadInputError

WEIGHTED = "weighted_sum"


@dataclass
class LayerWeights:
    weights: list[float]  # one per hidden state, summing to 1
    layer_norm: bool
    source: str  # the file they were read from
    cmvn: bool = False

    @classmethod
    def read(cls, weights: list[float], featurizer: dict, source: str) -> LayerWeights:
        """``featurizer``: the experiment's featurizer settings (results.json's or config.yaml's)."""
        layer_norm, cmvn = bool(featurizer.get("layer_norm", False)), bool(featurizer.get("cmvn", False))
        return cls(weights, layer_norm, source, cmvn=cmvn)


@dataclass
class Selection:
    layers: list[int] = field(default_factory=list)  # hidden states kept as they are
    weighted: LayerWeights | None = None

    @property
    def streams(self) -> list[str]:
        return [f"layer_{i:02d}" for i in self.layers] + ([WEIGHTED] if self.weighted is not None else [])

    def describe(self) -> dict:
        """What the folder's record holds: a change of any of it is another extraction."""
        w = self.weighted
        return {
            "layers": self.layers,
            "weighted_sum": None
            if w is None
            else {"weights": w.weights, "layer_norm": w.layer_norm, "cmvn": w.cmvn, "from": w.source},
        }

    def check(self, num_hidden_states: int) -> None:
        """Every selected state exists in an upstream with ``num_hidden_states`` of them."""
        for layer in self.layers:
            if not 0 <= layer < num_hidden_states:
                raise BadInputError(
                    f"-l {layer}: no such hidden state; this upstream has {num_hidden_states} "
                    f"(0 = input representation .. {num_hidden_states - 1} = last layer)"
                )
        if self.weighted is not None and len(self.weighted.weights) != num_hidden_states:
            raise BadInputError(
                f"--weighted-sum: {self.weighted.source} weighs {len(self.weighted.weights)} hidden states, "
                f"this upstream has {num_hidden_states}: extract with the upstream that experiment was trained on"
            )

    def apply(self, hidden: list[torch.Tensor], lengths: torch.Tensor) -> list[torch.Tensor]:
        """One (B, T, H) tensor per stream, computed where ``hidden`` lies (the upstream's device);
        ``lengths``: each utterance's valid frames (CMVN counts only those)."""
        out = [hidden[i] for i in self.layers]
        if self.weighted is not None:
            w = self.weighted
            states = [normalised_state(h, lengths, layer_norm=w.layer_norm, cmvn=w.cmvn) for h in hidden]
            weights = torch.tensor(w.weights, dtype=torch.float32, device=states[0].device)
            out.append(weighted_sum(states, weights))  # as Featurizer.forward
        return out


def parse_layers(value: str | None, num_hidden_states: int) -> list[int]:
    """``-l 3``, ``-l 0,3`` or ``--layers all`` -> hidden-state indices (checked by Selection.check)."""
    if value is None:
        return []
    if value == "all":
        return list(range(num_hidden_states))
    try:
        layers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise BadInputError(f"-l {value}: give hidden-state indices (e.g. -l 3 or -l 0,3) or --layers all") from None
    if len(set(layers)) != len(layers) or not layers:
        raise BadInputError(f"-l {value}: give each hidden state once")
    return layers


def _results_weights(path: Path) -> LayerWeights | None:
    try:
        results = json.loads(path.read_text())
    except ValueError as err:
        raise ConfigError(f"--weighted-sum: {path} is not valid JSON ({err})") from None
    featurizer = results.get("featurizer") if isinstance(results, dict) else None
    if not isinstance(featurizer, dict):
        return None
    weights = featurizer.get("layer_weights")
    if not isinstance(weights, list) or not weights or not all(isinstance(w, (int, float)) for w in weights):
        return None
    return LayerWeights.read([float(w) for w in weights], featurizer, str(path))


def _checkpoint_weights(expdir: Path) -> LayerWeights | None:
    from aalbert.checkpoint_file import load_checkpoint_file
    from aalbert.config_layers import load_yaml
    from aalbert.downstream.experiment_config import CONFIG_FILE
    from aalbert.downstream.training import best_checkpoint, latest_state

    best = best_checkpoint(expdir)
    path = best if best.is_file() else latest_state(expdir)
    if path is None:
        return None
    ckpt = load_checkpoint_file(path, expected=dict)
    state = ckpt.get("model", ckpt)
    raw = state.get("featurizer", {}).get("weights") if isinstance(state, dict) else None
    if not isinstance(raw, torch.Tensor):
        raise ConfigError(
            f"--weighted-sum: {path} holds no learned layer weights (its featurizer selected one hidden "
            "state): extract that state with -l instead"
        )
    config = load_yaml(expdir / CONFIG_FILE) if (expdir / CONFIG_FILE).is_file() else {}
    return LayerWeights.read(F.softmax(raw.detach().float(), dim=0).tolist(), config.get("featurizer") or {}, str(path))


def experiment_weights(expdir: str | Path) -> LayerWeights:
    """The layer weights a trained downstream experiment learned (see the module's docstring)."""
    expdir = Path(expdir)
    if not expdir.is_dir():
        raise ConfigError(f"--weighted-sum {expdir}: no such experiment folder")
    found = _results_weights(expdir / "results.json") if (expdir / "results.json").is_file() else None
    found = found or _checkpoint_weights(expdir)
    if found is None:
        raise ConfigError(
            f"--weighted-sum {expdir}: the folder holds no learned layer weights (no results.json with "
            "featurizer.layer_weights, no dev-best.ckpt or states-STEP.ckpt): give a trained downstream experiment"
        )
    if not math.isclose(sum(found.weights), 1.0, abs_tol=1e-3) or min(found.weights) < 0:
        raise ConfigError(
            f"--weighted-sum: the layer weights in {found.source} are not softmax weights: {found.weights}"
        )
    return found
