"""The wheel, installed outside the checkout, runs the toolkit from any folder with its packaged recipes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from tone_corpus import make_tone_corpus

REPO = Path(__file__).resolve().parent.parent
TOP_LEVEL_SKIP = {".git", ".venv", "result", "data", "demo_output", "build", "dist", ".pytest_cache"}


def skip(folder: str, names: list[str]) -> set[str]:
    """What the source copy leaves out: the checkout's own outputs (top level only) and caches."""
    top = Path(folder) == REPO
    return {n for n in names if (top and n in TOP_LEVEL_SKIP) or n == "__pycache__" or n.endswith(".egg-info")}


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    """The wheel built from a copy of the source and installed into a fresh virtual environment.

    The environment reuses this one's dependencies (torch is large): a .pth file appends their
    folders to its path *after* the wheel is installed, so pip sees an empty environment and the
    wheel's ``aalbert`` comes first on the path (a .pth path line does not run the editable
    install's own .pth hooks, so the checkout stays out of sight).
    """
    tmp = tmp_path_factory.mktemp("wheel")
    source = tmp / "source"
    shutil.copytree(REPO, source, ignore=skip)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp / "dist"),
            str(source),
        ],
        check=True,
    )
    wheel = next((tmp / "dist").glob("aalbert-*.whl"))
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
    )
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    ours = {sysconfig.get_paths()[k] for k in ("purelib", "platlib")}
    (site / "reuse_test_dependencies.pth").write_text("\n".join(sorted(ours)) + "\n")
    work = tmp / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(OMP_NUM_THREADS="1", PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    return {"site": site, "work": work, "env": env, "python": str(python), "aalbert": str(venv / "bin" / "aalbert")}


def run(installed: dict, *argv: str) -> str:
    done = subprocess.run(list(argv), cwd=installed["work"], env=installed["env"], capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_wheel_from_any_folder(installed, tmp_path):
    where = run(installed, installed["python"], "-c", "import aalbert; print(aalbert.__file__)")
    assert where.strip().startswith(str(installed["site"]))  # not the checkout
    assert "pretrain" in run(installed, installed["aalbert"], "--help")
    assert "aalbert_3l_random" in run(installed, installed["aalbert"], "hub", "list")
    assert "--downstream" in run(installed, installed["aalbert"], "downstream", "--help")
    assert "--upstream" in run(installed, installed["python"], "-m", "aalbert", "pretrain", "--help")
    corpus = make_tone_corpus(tmp_path / "corpus")
    assert "utterances" in run(installed, installed["aalbert"], "corpus", "inspect", str(corpus))
    run(
        installed,
        installed["aalbert"],
        "pretrain",
        "-u",
        "aalbert",
        "-c",
        "pretrain/tiny",
        "-n",
        "p",
        "--no-progress",
        "-o",
        f"data.roots=[{corpus}]",
        "-o",
        "runner.total_steps=2,runner.save_step=2,runner.batch_size=2",
    )
    ckpt = installed["work"] / "result" / "pretrain" / "p" / "states-2.ckpt"
    assert ckpt.is_file()
    out = run(
        installed,
        installed["aalbert"],
        "downstream",
        "-m",
        "train",
        "-u",
        "aalbert_local",
        "-k",
        str(ckpt),
        "-d",
        "phone_linear",
        "-n",
        "d",
        "--data",
        str(corpus),
        "-o",
        "runner.total_steps=2,runner.eval_step=2",
    )
    assert '"test"' in out
    assert (installed["work"] / "result" / "downstream" / "d" / "results.json").is_file()
