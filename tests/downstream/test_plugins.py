"""The example plugin package (examples/plugin_task, the worked example of docs/adding_a_task.md),
installed as a user would: found through the entry-point groups `aalbert.downstream` and
`aalbert.upstream`, run by the real run_downstream.py, and its own tests run here (CI runs only
this suite). One test: installing is the expensive part."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUN_DOWNSTREAM = REPO / "run_downstream.py"
EXAMPLE = REPO / "examples" / "plugin_task"


def _run(args, env, **kwargs):
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, **kwargs)


def test_example_plugin_installs_trains_evaluates_and_passes_its_tests(tone_corpus, tmp_path):
    # build from a copy: building writes build/ and *.egg-info beside the sources
    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src)
    site = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "--target",
            str(site),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    without = {**os.environ, "PYTHONPATH": os.environ.get("PYTHONPATH", "")}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}

    listed = _run([str(RUN_DOWNSTREAM), "--list-tasks"], env, check=True).stdout.split()
    assert {"speaker_maxpool", "utterance_pitch", "speaker_gender"} <= set(listed)

    expdir = tmp_path / "exp"
    trained = _run(
        [
            str(RUN_DOWNSTREAM),
            "-u",
            "toy_bands",
            "-d",
            "speaker_maxpool",
            "--expdir",
            str(expdir),
            "--data",
            str(tone_corpus),
            "-o",
            "runner.total_steps=30,runner.eval_step=15,optimizer.lr=0.01",
        ],
        env,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    results = json.loads((expdir / "results.json").read_text())
    assert results["task_source"].startswith("plugin aalbert_plugin_example")
    assert results["task_package"] == {"name": "aalbert-plugin-example", "version": "0.1.0"}
    assert results["upstream"]["name"] == "toy_bands" and results["featurizer"]["layer_weights"] == [1.0]
    assert results["metrics"]["test"]["accuracy"] > 0.34  # 3 speakers

    evaluated = _run([str(RUN_DOWNSTREAM), "-m", "evaluate", "-e", str(expdir)], env)
    assert evaluated.returncode == 0, evaluated.stderr[-2000:]
    printed = json.loads(evaluated.stdout[evaluated.stdout.index("{") :])
    assert printed["test"]["accuracy"] == results["metrics"]["test"]["accuracy"]

    # the plugin uninstalled: evaluating its experiment names the missing package
    gone = _run([str(RUN_DOWNSTREAM), "-m", "evaluate", "-e", str(expdir)], without)
    assert gone.returncode == 1 and "Traceback" not in gone.stderr
    assert "package aalbert-plugin-example 0.1.0, which is not installed" in gone.stderr

    # the example's own tests, against the installed package, as its CI would run them
    tests = _run(
        ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(src), str(src / "tests")], env, cwd=src
    )
    assert tests.returncode == 0, tests.stdout[-3000:]
    assert "5 passed" in tests.stdout  # speaker_maxpool (3), utterance_pitch (2)
