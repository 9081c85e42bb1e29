"""torchrun with 2 CPU processes (gloo): ranks end with identical weights, rank 0 checkpoints them."""

import os
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.upstream.checkpoint import import_encoder_state
from aalbert.upstream.model import TransformerConfig

REPO = Path(__file__).resolve().parents[2]


def test_two_process_ddp_keeps_ranks_identical(tmp_path, corpus_dir):
    recipe = tmp_path / "r.yaml"
    recipe.write_text(
        yaml.safe_dump(
            {
                "model": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
                "data": {"roots": [str(corpus_dir)], "max_frames": 100, "batch_size": 1},
                "optim": {"total_steps": 4, "lr": 1e-3, "grad_accum": 2},
                "log": {"log_every": 1, "image_every": 0, "save_every": 4, "keep_last": 1},
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
    # training moved the weights, and rank 0's checkpoint holds them
    ckpt = load_checkpoint_file(exp / "states-4.ckpt")
    assert ckpt["World_Size"] == 2 and len(ckpt["RNG"]) == 2
    assert not torch.equal(ckpt["RNG"][0]["mask"], ckpt["RNG"][1]["mask"])  # ranks mask differently
    config = TransformerConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64)
    enc = import_encoder_state(ckpt["Transformer"], config)
    assert all(torch.equal(v, rank0[f"encoder.{k}"]) for k, v in enc.items())
