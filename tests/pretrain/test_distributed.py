"""torchrun with 2 CPU processes (gloo): ranks train, end with identical weights, rank 0 checkpoints them."""

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.config_layers import load_config
from aalbert.pretrain.config import PretrainConfig, set_upstream
from aalbert.pretrain.trainer import Trainer
from aalbert.upstream.checkpoint import import_encoder_state
from aalbert.upstream.model_config import TransformerConfig

REPO = Path(__file__).resolve().parents[2]


def initial_weights(recipe: Path, tmp_path: Path) -> tuple[dict, set[str]]:
    """The weights every rank starts from (drawn from the recipe's seed, as each rank draws them), and
    the names of the trained parameters."""
    trainer = Trainer(
        set_upstream(load_config(PretrainConfig, recipe), "mockingjay"), tmp_path / "init", progress=False
    )
    trained = {name for name, p in trainer.model.named_parameters() if p.requires_grad}
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}, trained


def test_two_process_ddp_keeps_ranks_identical(tmp_path, corpus_dir):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "model": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
                "data": {"roots": [str(corpus_dir)], "max_frames": 100},
                "runner": {
                    "total_steps": 4,
                    "batch_size": 1,
                    "gradient_accumulate_steps": 2,
                    "log_step": 1,
                    "image_step": 0,
                    "save_step": 4,
                    "max_keep": 1,
                },
                "optimizer": {"lr": 1e-3},
            }
        )
    )
    exp, dump = tmp_path / "exp", tmp_path / "dump"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(REPO / "run_pretrain.py"),
            "-u",
            "mockingjay",
            "-c",
            str(recipe),
            "--expdir",
            str(exp),
            "--device",
            "cpu",
            "--no-progress",
            "--dump-weights",
            str(dump),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    rank0 = torch.load(dump / "rank0.pt", weights_only=True)
    rank1 = torch.load(dump / "rank1.pt", weights_only=True)
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)
    # ... and equal because both stepped, not because neither did: every trained parameter moved from
    # where it started by a margin (lr 1e-3, 4 AdamW steps at lr x 1, .75, .5, .25 move an entry up to
    # 2.5e-3; 1e-4 on average is far above float noise and far below what a step gives)
    start, trained = initial_weights(recipe, tmp_path)
    assert start.keys() == rank0.keys() and trained
    moved = {k: float((rank0[k] - start[k]).abs().mean()) for k in trained}
    assert all(diff > 1e-4 for diff in moved.values()), {k: d for k, d in moved.items() if d <= 1e-4}
    assert all(torch.equal(rank0[k], start[k]) for k in start.keys() - trained)  # buffers: not trained
    # training moved the weights, and rank 0's checkpoint holds them
    ckpt = load_checkpoint_file(exp / "states-4.ckpt")
    assert ckpt["World_Size"] == 2 and len(ckpt["RNG"]) == 2
    assert not torch.equal(ckpt["RNG"][0]["mask"], ckpt["RNG"][1]["mask"])  # ranks mask differently
    config = TransformerConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    enc = import_encoder_state(ckpt["Transformer"], config)
    assert all(torch.equal(v, rank0[f"encoder.{k}"]) for k, v in enc.items())
