"""A task and an upstream from a separately installed package, found through the entry-point groups
`aalbert.downstream` and `aalbert.upstream`, run by the real run_downstream.py."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
RUN_DOWNSTREAM = HERE.parent.parent / "run_downstream.py"


def test_plugin_task_installs_and_runs(tone_corpus, tmp_path):
    # build from a copy: building writes build/ and *.egg-info beside the sources
    src = tmp_path / "src"
    shutil.copytree(HERE / "plugin_example", src)
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "--target", str(target), str(src)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), os.environ.get("PYTHONPATH", "")])}

    listed = subprocess.run([sys.executable, str(RUN_DOWNSTREAM), "--list-tasks"], env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    assert "speaker_maxpool" in listed and "phone_linear" in listed

    expdir = tmp_path / "exp"
    proc = subprocess.run([sys.executable, str(RUN_DOWNSTREAM), "-u", "toy_bands", "-d", "speaker_maxpool",
                           "--expdir", str(expdir), "--data", str(tone_corpus),
                           "-o", "runner.total_steps=30,runner.eval_step=15,optimizer.lr=0.01"],
                          env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = json.loads((expdir / "results.json").read_text())
    assert results["task"] == "speaker_maxpool"
    assert results["task_source"].startswith("plugin aalbert_plugin_example")
    assert results["upstream"]["name"] == "toy_bands" and results["featurizer"]["layer_weights"] == [1.0]
    assert results["metrics"]["test"]["accuracy"] > 0.34  # 3 speakers
