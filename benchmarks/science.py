"""What pretraining learns: per-layer probing and weighted-sum tasks against the log-mel baseline.

    python benchmarks/science.py                                  # synthetic corpus, tiny recipe, 3000 steps (the demo's)
    python benchmarks/science.py --sweep 500,1000,2000,4000       # the steps-vs-gain curve
    python benchmarks/science.py -o model.stacking=1 --seeds 0,1 --tag no-stacking   # a variant of the recipe
    python benchmarks/science.py --corpus /data/timit --format timit --audio /data/LibriSpeech/train-clean-100 \\
        --device cuda --steps 20000

For each seed and each upstream (AALBERT and Mockingjay of equal depth, one recipe), it pretrains
with ``run_pretrain.py``, then probes every hidden state with a linear probe on frame phones and
on utterance speakers (``run_probe.py``: aalbert.analysis.probing) and trains the weighted-sum
``phone_linear`` / ``speaker_utterance`` tasks (``run_downstream.py``), and does the same for the
parameter-free ``fbank`` (log-mel) baseline. Every weighted-sum task is trained in each featurizer
setting (aalbert.demo_report.SETTINGS: the hidden states as they are, ``featurizer.layer_norm=true``,
``featurizer.cmvn=true``), the same head and steps, and the run best on *dev* is reported (as ``make demo`` does): log-mel's row is "log-mel at its best",
and every model gets the same chance. ``--checkpoints aalbert=CKPT,...`` evaluates checkpoints made
elsewhere (``make demo``'s) instead of pretraining. Every step is the command a user would type (printed
before it runs), so any figure can be reproduced by hand; a step whose output exists is reused.

``--sweep`` pretrains once to the largest step count, keeping a checkpoint at each listed step,
and evaluates each of them: the checkpoints of one run, under the learning-rate schedule of the
longest (a 250-step checkpoint of a 2000-step run has not decayed its rate as a 250-step run
would). The baseline is evaluated once per corpus and evaluation settings (``OUT/fbank-DIGEST``),
whatever the recipe. Writes ``OUT/TAG/science.md`` (the table), ``science.json`` (every figure) and
``science_layers.png`` (accuracy per layer per model; ``science_steps.png`` too with ``--sweep``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import science_report  # benchmarks/ is on sys.path when this script runs

from aalbert.command_flags import from_flags
from aalbert.demo import DemoSettings, small_head_overrides
from aalbert.demo_report import SETTING_OVERRIDES, SETTINGS, Trial, choose_on_dev, trial_of

REPO = Path(__file__).resolve().parent.parent
BASELINE = "fbank"
TASKS = {"phone": "phone_linear", "speaker": "speaker_utterance"}  # probing task -> weighted-sum task


@dataclass
class Settings:
    out: Path
    corpus: Path
    format: str = "librispeech"
    audio: list[str] = field(default_factory=list)  # pretraining audio; empty = the corpus's train split
    recipe: str = "config/pretrain/tiny.yaml"
    overrides: list[str] = field(default_factory=list)
    tag: str = ""
    upstreams: list[str] = field(default_factory=lambda: ["aalbert", "mockingjay"])
    steps: list[int] = field(default_factory=lambda: [DemoSettings.pretrain_steps])
    seeds: list[int] = field(default_factory=lambda: [0])
    weighted_sum: str = "last"  # at which steps: "all", "last" or "none"
    downstream_steps: int = 400  # the demo's settings: small heads, few hundred steps, lr 1e-2
    downstream_lr: float = 1e-2
    probe_max_steps: int = 1500
    device: str = "cpu"
    threads: int = 1
    checkpoints: dict[str, str] = field(default_factory=dict)  # upstream -> checkpoint: no pretraining


def run_step(cmd: list[str], done: Path, settings: Settings, log: Path) -> float:
    """Run ``cmd`` (printed first) unless ``done`` exists; its output goes to ``log``. Wall seconds."""
    shown = " ".join("python" if c == sys.executable else c for c in cmd)
    if done.exists():
        print(f"(reusing {done})", flush=True)
        return 0.0
    print(f"$ {shown}", flush=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": str(settings.threads)}
    if settings.device == "cpu":
        env["CUDA_VISIBLE_DEVICES"] = ""  # run_downstream.py picks CUDA whenever it sees a GPU
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(log, "w", encoding="utf-8") as f:
        proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tail = log.read_text(encoding="utf-8")[-3000:]
        raise SystemExit(f"{tail}\nstep failed (exit {proc.returncode}): {shown}\nits output: {log}")
    return time.time() - start


def ensure_corpus(s: Settings) -> None:
    """The default corpus is synthesized (as ``make demo`` does) when it is not there yet."""
    if s.corpus.exists():
        return
    if s.format != "librispeech":
        raise SystemExit(f"corpus {s.corpus} not found")
    print(
        f"$ aalbert corpus synthesize --out {s.corpus} --speakers 40 --utterances 25 "
        "--min-words 4 --max-words 12 --seed 0",
        flush=True,
    )
    from aalbert.corpus import synthesize

    synthesize(s.corpus, speakers=40, utterances=25, seed=0, words_per_utterance=(4, 12))


def pretraining_audio(s: Settings, work: Path) -> list[str]:
    """``--audio``, else the corpus's training split (dev/test stay unseen by pretraining)."""
    if s.audio:
        return s.audio
    split = s.corpus / "splits" / "train.txt"
    if not split.is_file():
        raise SystemExit(f"{split} not found: give the pretraining audio with --audio")
    train_ids = set(split.read_text().split())
    paths = sorted(p for p in s.corpus.rglob("*.flac") if p.stem in train_ids)
    listing = work / "pretrain_files.txt"
    listing.write_text("".join(f"{p.resolve()}\n" for p in paths), encoding="utf-8")
    return [str(listing)]


def pretrain(s: Settings, work: Path, upstream: str, seed: int, roots: list[str]) -> dict[int, Path]:
    """One run to the largest step count, a checkpoint kept at every evaluated step (or the
    checkpoint ``--checkpoints`` gave for this upstream, as the one step count)."""
    if upstream in s.checkpoints:
        return {max(s.steps): Path(s.checkpoints[upstream])}
    expdir = work / "pretrain" / f"{upstream}_s{seed}"
    total = max(s.steps)
    every = s.steps[0]
    for step in s.steps[1:]:
        every = _gcd(every, step)
    cmd = [
        sys.executable,
        "run_pretrain.py",
        "-u",
        upstream,
        "-c",
        s.recipe,
        "--expdir",
        str(expdir),
        "--seed",
        str(seed),
        "--device",
        s.device,
        "--threads",
        str(s.threads),
        "--no-progress",
        "-o",
        f"data.roots=[{','.join(roots)}]",
        "-o",
        f"runner.total_steps={total}",
        "-o",
        f"runner.save_step={every}",
        "-o",
        f"runner.max_keep={total // every}",
    ]
    for override in s.overrides:
        cmd += ["-o", override]
    run_step(cmd, expdir / f"states-{total}.ckpt", s, expdir.with_suffix(".log"))
    ckpts = {step: expdir / f"states-{step}.ckpt" for step in s.steps}
    missing = [str(p) for p in ckpts.values() if not p.is_file()]
    if missing:
        raise SystemExit(f"pretraining did not leave {', '.join(missing)}")
    return ckpts


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def upstream_args(upstream: str, ckpt: Path | None) -> list[str]:
    return ["-u", upstream] if ckpt is None else ["-u", f"{upstream}_local", "-k", str(ckpt)]


def probe(s: Settings, where: Path, upstream: str, ckpt: Path | None, task: str) -> list[float]:
    """Linear-probe test accuracy of every hidden state (0 = input representation)."""
    out = where / f"probe_{task}"
    cmd = [
        sys.executable,
        "run_probe.py",
        *upstream_args(upstream, ckpt),
        "--task",
        task,
        "--probes",
        "linear",
        "--data",
        str(s.corpus),
        "--format",
        s.format,
        "--max-steps",
        str(s.probe_max_steps),
        "--device",
        s.device,
        "--out",
        str(out),
        "--no-progress",
    ]
    run_step(cmd, out / "probe_results.json", s, out.with_suffix(".log"))
    result = json.loads((out / "probe_results.json").read_text())
    rows = sorted((r for r in result["rows"] if r["probe"] == "linear"), key=lambda r: r["layer"])
    return [float(r[f"test_{result['metric']}"]) for r in rows]


def weighted_sum(
    s: Settings, where: Path, upstream: str, ckpt: Path | None, task: str, seed: int, setting: str
) -> Trial:
    """The weighted-sum downstream task (frozen upstream) as ``make demo`` trains it, under one
    featurizer ``setting``: dev-best and test accuracy, and the layer weights it learned."""
    expdir = where / f"downstream_{task}{SETTINGS[setting]}"
    cache = where / "feature_cache"  # hidden states before the featurizer: shared by the settings
    cmd = [
        sys.executable,
        "run_downstream.py",
        "-m",
        "train",
        *upstream_args(upstream, ckpt),
        "-d",
        TASKS[task],
        "--expdir",
        str(expdir),
        "--data",
        str(s.corpus),
        "--seed",
        str(seed),
        "-o",
        f"data.format={s.format}",
        *small_head_overrides(s.downstream_steps, s.downstream_lr, cache),
        *[flag for value in SETTING_OVERRIDES[setting] for flag in ("-o", value)],
    ]
    run_step(cmd, expdir / "results.json", s, expdir.with_suffix(".log"))
    return trial_of(json.loads((expdir / "results.json").read_text()), setting, expdir / "results.json")


def evaluate(s: Settings, where: Path, upstream: str, ckpt: Path | None, seed: int, with_sum: bool) -> dict:
    """Probes of every hidden state; with ``with_sum`` the weighted-sum tasks in every featurizer
    setting, the one better on dev reported (``TASK_sum``, ``TASK_sum_setting``, ``TASK_weights``)."""
    entry: dict = {}
    for task in TASKS:
        entry[f"{task}_probe"] = probe(s, where, upstream, ckpt, task)
        if with_sum:
            trials = [weighted_sum(s, where, upstream, ckpt, task, seed, setting) for setting in SETTINGS]
            best = choose_on_dev(trials)
            entry[f"{task}_sum_trials"] = [asdict(t) for t in trials]
            entry[f"{task}_sum"] = best.test
            entry[f"{task}_sum_setting"] = best.setting
            entry[f"{task}_weights"] = best.layer_weights
    shutil.rmtree(where / "feature_cache", ignore_errors=True)  # gigabytes of frames, needed no more
    return entry


def tag_of(s: Settings) -> str:
    """Folder name of a configuration: the recipe's name and a digest of everything that shapes it."""
    if s.tag:
        return s.tag
    recipe = (REPO / s.recipe) if not Path(s.recipe).is_absolute() else Path(s.recipe)
    shaped = {"recipe": recipe.read_text(), "overrides": s.overrides, "audio": s.audio}
    if s.checkpoints:  # only then: the folders of earlier configurations keep their names
        shaped["checkpoints"] = s.checkpoints
    key = json.dumps(shaped, sort_keys=True)
    return f"{Path(s.recipe).stem}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def baseline_tag(s: Settings) -> str:
    """Folder of the log-mel baseline: it depends on the corpus and the evaluation only, not the recipe."""
    key = json.dumps([str(s.corpus), s.format, s.probe_max_steps, s.downstream_steps, s.downstream_lr, s.seeds[0]])
    return f"{BASELINE}-{hashlib.sha1(key.encode()).hexdigest()[:8]}"


def run(s: Settings) -> dict:
    ensure_corpus(s)
    work = s.out / tag_of(s)
    work.mkdir(parents=True, exist_ok=True)
    roots = pretraining_audio(s, work)
    start = time.time()
    runs: list[dict] = []
    # the baseline has no weights and no recipe: one evaluation, shared by every configuration
    base = evaluate(s, s.out / baseline_tag(s), BASELINE, None, s.seeds[0], s.weighted_sum != "none")
    runs.append({"model": BASELINE, "steps": 0, "seed": s.seeds[0], **base})
    for seed in s.seeds:
        for upstream in s.upstreams:
            ckpts = pretrain(s, work, upstream, seed, roots)
            for step, ckpt in ckpts.items():
                with_sum = s.weighted_sum == "all" or (s.weighted_sum == "last" and step == max(s.steps))
                where = work / "eval" / f"{upstream}_s{seed}_{step}"
                runs.append(
                    {
                        "model": upstream,
                        "steps": step,
                        "seed": seed,
                        **evaluate(s, where, upstream, ckpt, seed, with_sum),
                    }
                )
    summary = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(s).items()},
        "tag": work.name,
        "wall_seconds": time.time() - start,
        "runs": runs,
    }
    (work / "science.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    text = science_report.write_report(summary, work)
    print("\n" + text)
    print(
        f"written: {work / 'science.md'}, {work / 'science.json'}, {work / 'science_layers.png'}"
        + (f", {work / 'science_steps.png'}" if len(s.steps) > 1 else "")
    )
    return summary


def _ints(text: str) -> list[int]:
    return sorted({int(v) for v in text.split(",") if v.strip()})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python benchmarks/science.py", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--corpus",
        default="data/synth40",
        help="corpus with phone labels, as run_downstream.py --data reads it (default: the synthetic "
        "corpus, synthesized when missing)",
    )
    p.add_argument("--format", default="librispeech", help="its reader: librispeech, timit, kaldi, lhotse, ...")
    p.add_argument(
        "--audio",
        action="append",
        default=[],
        help="pretraining audio (folder, file list or FORMAT:PATH; repeatable). Default: the corpus's "
        "splits/train.txt utterances",
    )
    p.add_argument("--recipe", default=Settings.recipe, help="pretraining recipe")
    p.add_argument("-o", "--override", action="append", default=[], help="recipe override, e.g. optimizer.lr=1e-4")
    p.add_argument("--tag", default="", help="folder name of this configuration under --out (default: recipe + digest)")
    p.add_argument("--upstreams", default="aalbert,mockingjay")
    p.add_argument(
        "--steps", type=int, default=DemoSettings.pretrain_steps, help="pretraining steps (default: the demo's)"
    )
    p.add_argument(
        "--sweep",
        default=None,
        help="comma-separated step counts (e.g. 250,500,1000,2000): one run, each of these checkpoints evaluated",
    )
    p.add_argument("--seeds", default="0", help="comma-separated pretraining seeds")
    p.add_argument(
        "--weighted-sum",
        choices=["all", "last", "none"],
        default="last",
        help="train the weighted-sum tasks at every swept step, at the last one, or never",
    )
    p.add_argument("--downstream-steps", type=int, default=Settings.downstream_steps)
    p.add_argument("--downstream-lr", type=float, default=Settings.downstream_lr)
    p.add_argument("--probe-max-steps", type=int, default=Settings.probe_max_steps)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--threads", type=int, default=1, help="CPU threads per step")
    p.add_argument(
        "--checkpoints",
        default="",
        help="UPSTREAM=CKPT,... : evaluate these checkpoints (e.g. make demo's demo_output/pretrain/aalbert/"
        "states-3000.ckpt) as the --steps step of one seed instead of pretraining",
    )
    p.add_argument("--out", default="result/science")
    a = p.parse_args(argv)
    checkpoints = dict(item.split("=", 1) for item in a.checkpoints.split(",") if item)
    if checkpoints and (a.sweep or "," in a.seeds):
        p.error("--checkpoints evaluates given checkpoints: one seed, no --sweep")
    # the steps run from the repository root: a recipe path given from elsewhere is made absolute
    recipe = a.recipe if not Path(a.recipe).exists() else str(Path(a.recipe).resolve())
    s = from_flags(
        Settings,
        a,
        out=Path(a.out).resolve(),
        corpus=Path(a.corpus).resolve(),
        audio=[str(Path(x).resolve()) if ":" not in x else x for x in a.audio],
        recipe=recipe,
        overrides=a.override,
        upstreams=[u for u in a.upstreams.split(",") if u],
        steps=_ints(a.sweep) if a.sweep else [a.steps],
        seeds=_ints(a.seeds),
        checkpoints={k: str(Path(v).resolve()) for k, v in checkpoints.items()},
    )
    run(s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
