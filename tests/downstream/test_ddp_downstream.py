"""Training under torchrun with two CPU processes (gloo): rank 0 writes, results come out once."""

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent


def test_two_process_training(tone_corpus, tmp_path):
    expdir = tmp_path / "exp"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            str(HERE / "fake_upstream_cli.py"),
            "-u",
            "fake",
            "-d",
            "speaker_utterance",
            "--expdir",
            str(expdir),
            "--data",
            str(tone_corpus),
            "-o",
            "runner.total_steps=20,runner.eval_step=10,optimizer.lr=0.01",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((expdir / "results.json").read_text())
    assert results["world_size"] == 2 and results["steps"] == 20
    assert results["metrics"]["test"]["accuracy"] > 0.5
    assert proc.stdout.count('"expdir"') == 1  # only rank 0 reports
    assert not list(expdir.glob("*.tmp")) and not list(expdir.glob(".*.tmp"))
