"""Checkpoints written the way s3prl 0.4.18's ``run_pretrain.py`` writes them.

Its runner saves ``all_states = {Optimizer, Step, Args, Config}`` plus what the mockingjay /
audio_albert pretrain expert adds (``SpecHead``, ``Transformer``, ``Upstream_Config``), with
``torch.save``. Here the same dict is built from s3prl's own classes: the model from
``upstream/mockingjay/model.py``; the optimizer from s3prl's ``optimizers`` module imported the
way the runner imports it (a top-level module named ``optimizers``, so its pickled learning-rate
schedule object is ``optimizers.WarmupLinearSchedule``, as in the published files), after one
real step; ``Args`` with the fields of run_pretrain's parser; ``Config`` as its
``config_runner.yaml``; ``Upstream_Config`` as the recipe (``transformer.input_dim: -1``).

The three shapes of the published models (s3prl's ``config_model*.yaml``), with hidden 64
instead of 768 so that tests stay fast.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import sys
from pathlib import Path

import s3prl
import s3prl.upstream.mockingjay.model as s3prl_model
import torch
from s3prl_config_model import config_model

SHAPES = {
    "aalbert_logMelBase": {"layers": 3, "share": True, "target": "mel", "sequence_length": 1500},
    "mockingjay_logMelBase": {"layers": 3, "share": False, "target": "mel", "sequence_length": 1500},
    "mockingjay_logMelLinearLarge": {"layers": 12, "share": False, "target": "linear", "sequence_length": 500},
}

RUNNER_CONFIG = {
    "runner": {
        "n_epochs": -1,
        "total_steps": 1000000,
        "gradient_clipping": 5.0,
        "gradient_accumulate_steps": 4,
        "log_step": 50000,
        "save_step": 50000,
        "max_keep": 5,
        "fp16": False,
    },
    "optimizer": {"name": "AdamW_with_schedule", "lr": 2.0e-4, "warmup_proportion": 0.07},
    "pretrain_expert": {
        "datarc": {
            "num_workers": 8,
            "train_batch_size": 8,
            "max_timestep": -200,
            "libri_root": "/media/LibriSpeech/",
            "file_path": "data/len_for_bucket",
            "sets": ["train-clean-100", "train-clean-360", "train-other-500"],
        }
    },
}


def upstream_config(shape: str, hidden: int = 64, heads: int = 4, ffn: int = 128) -> dict:
    spec = SHAPES[shape]
    return config_model(spec["layers"], spec["share"], spec["target"], spec["sequence_length"], hidden, heads, ffn)


def run_pretrain_args(expname: str) -> argparse.Namespace:
    return argparse.Namespace(
        past_exp=None,
        override=None,
        config="pretrain/mockingjay/config_runner.yaml",
        upstream="mockingjay",
        upstream_config="pretrain/mockingjay/config_model.yaml",
        expname=expname,
        expdir=f"result/pretrain/{expname}",
        auto_resume=False,
        seed=1337,
        device="cuda",
        multi_gpu=False,
        init_ckpt=None,
    )


def _runner_optimizers():
    """s3prl's optimizers.py as the runner imports it: a top-level module named ``optimizers``."""
    path = Path(s3prl.__file__).parent / "optimizers.py"
    spec = importlib.util.spec_from_file_location("optimizers", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_checkpoint(
    path: Path,
    shape: str,
    seed: int = 0,
    step: int = 100,
    legacy: bool = False,
    hidden: int = 64,
    heads: int = 4,
    ffn: int = 128,
) -> Path:
    """``legacy``: the old layout (upstream config under ``Config``, runner config under
    ``Runner``, LayerNorm parameters named gamma/beta). ``hidden=768, heads=12, ffn=3072`` is
    the published size."""
    config = upstream_config(shape, hidden, heads, ffn)
    torch.manual_seed(seed)
    model_config = s3prl_model.TransformerConfig(config["transformer"])
    transformer = s3prl_model.TransformerModel(model_config, 80)  # input size from the features
    head = s3prl_model.TransformerSpecPredictionHead(model_config, 201 if SHAPES[shape]["target"] == "linear" else 80)
    with torch.no_grad():  # non-trivial biases and LayerNorms too
        for p in list(transformer.parameters()) + list(head.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    optimizers = _runner_optimizers()
    saved = sys.modules.get("optimizers")
    sys.modules["optimizers"] = optimizers  # pickle records the class as optimizers.<name>
    try:
        optimizer = optimizers.get_optimizer([transformer, head], 1000, copy.deepcopy(RUNNER_CONFIG["optimizer"]))
        feats = torch.randn(1, 20, 80)
        pos = torch.zeros(1, 20, model_config.hidden_size)
        hidden = transformer(feats, pos, torch.ones(1, 20), output_all_encoded_layers=False)
        hidden = hidden[-1] if isinstance(hidden, list) else hidden
        head(hidden)[0].abs().mean().backward()
        optimizer.step()
        transformer_state, head_state = transformer.state_dict(), head.state_dict()
        if legacy:
            transformer_state = _legacy_names(transformer_state)
            head_state = _legacy_names(head_state)
        all_states = {
            "Optimizer": optimizer.state_dict(),
            "Step": step,
            "Args": run_pretrain_args(shape),
            "SpecHead": head_state,
            "Transformer": transformer_state,
        }
        if legacy:
            all_states["Config"] = config
            all_states["Runner"] = copy.deepcopy(RUNNER_CONFIG)
        else:
            all_states["Config"] = copy.deepcopy(RUNNER_CONFIG)
            all_states["Upstream_Config"] = config
        torch.save(all_states, path)
    finally:
        if saved is None:
            sys.modules.pop("optimizers", None)
        else:
            sys.modules["optimizers"] = saved
    return path


def _legacy_names(state: dict) -> dict:
    out = {}
    for key, value in state.items():
        if "LayerNorm" in key:
            key = key.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        out[key] = value
    return out
