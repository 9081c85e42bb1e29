"""``make demo``: the whole toolkit on a synthetic corpus, in about 12 minutes on 2 CPU cores.

1. synthesize (or reuse) a mini-LibriSpeech of 40 speakers with exact phone alignments;
2. pretrain a tiny AALBERT and a tiny Mockingjay of equal depth on its training split;
3. train ``phone_linear`` and ``speaker_utterance`` on both and on the ``fbank`` baseline, each
   with the hidden states as they are, with ``featurizer.layer_norm=true`` and with
   ``featurizer.cmvn=true`` (same head, same steps), keeping per task the one best on dev: every
   upstream, log-mel included, at its best;
4. print and write a table (markdown + PNG): parameters, phone accuracy, speaker accuracy, time.

Every step is the command a user would type (printed before it runs), so the demo doubles as
a walk-through. Finished steps are reused when the demo is run again with the same settings.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from aalbert.command_flags import command_parser, from_flags
from aalbert.config_layers import find_recipe
from aalbert.demo_report import (
    PHONE_TASK,
    SETTING_OVERRIDES,
    SETTINGS,
    SPEAKER_TASK,
    Row,
    Trial,
    chance_of,
    chosen_row,
    trial_of,
    write_table,
)
from aalbert.downstream.registry import load_task
from aalbert.folder_lock import FolderLock

UPSTREAMS = ("aalbert", "mockingjay")
PRETRAIN_RECIPE = "pretrain/tiny"  # a shipped recipe, found from a checkout or an installed package
PRETRAIN_SAVE_EVERY = 100  # steps: a checkpoint every ~50 s on 2 cores, so an interrupted demo loses little


@dataclass
class DemoSettings:
    out: Path
    corpus: Path
    speakers: int = 40
    utterances: int = 25
    # shorter sentences than the corpus default (5-20 words): a third less audio for every
    # upstream pass, the main cost of the downstream half (about 1.3 h instead of 2 h)
    min_words: int = 4
    max_words: int = 12
    seed: int = 0
    pretrain_steps: int = 3000  # the tiny recipe's own (docs/science.md section 6: what 1000 to 8000 give)
    downstream_steps: int = 400
    # small heads on a few hundred steps: a larger rate than the tasks' defaults (1e-3)
    downstream_lr: float = 1e-2
    threads: int = 2


def _run_step(
    cmd: list[str], expdir: Path, corpus: Path, depends_on: list[Path], resumable: bool = False
) -> tuple[float, bool]:
    """Run one step (its progress bars show on the terminal) into ``expdir``: (wall time, reused).

    A step finished earlier with the same command, corpus and ``depends_on`` files (recipes,
    the upstream checkpoint) is reused. An interrupted one is continued when ``resumable`` (the
    command itself resumes from its last checkpoint), else run afresh; a step made from anything
    else is deleted and run afresh. The demo's own bookkeeping (``<expdir>.step.json`` and
    ``<expdir>.log``) stays beside the experiment folder, which belongs to the command.
    """
    shown = ["python" if c == sys.executable else c for c in cmd]
    marker = expdir.with_name(expdir.name + ".step.json")
    signature = {
        "command": shown[1:],
        "corpus": json.loads((corpus / "corpus.json").read_text())["spec"],
        "depends_on": {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in depends_on},
    }
    done: dict = json.loads(marker.read_text()) if marker.is_file() else {}
    same = done.get("signature") == signature
    if same and done.get("finished"):
        print(f"\n(reusing {expdir})")
        return done["wall_seconds"], True
    if same and resumable and expdir.exists():
        print(f"\n(continuing the interrupted step in {expdir})")
    elif expdir.exists():
        shutil.rmtree(expdir)
    expdir.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"signature": signature, "finished": False}, indent=2) + "\n")
    print("\n$ " + " ".join(shown), flush=True)
    start = time.time()
    # torch reads OMP_NUM_THREADS for its CPU thread pool (run_downstream.py has no --threads)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=None, text=True)
    log = expdir.with_name(expdir.name + ".log")
    log.write_text(proc.stdout, encoding="utf-8")
    if proc.returncode != 0:
        print(proc.stdout[-3000:], file=sys.stderr)
        raise SystemExit(f"demo step failed (exit {proc.returncode}); its output is in {log}")
    seconds = time.time() - start
    marker.write_text(json.dumps({"signature": signature, "finished": True, "wall_seconds": seconds}, indent=2) + "\n")
    return seconds, False


def small_head_overrides(steps: int, lr: float, feature_cache: Path) -> list[str]:
    """The demo's downstream settings as ``-o`` flags: small heads, a few hundred steps at a large
    rate, evaluated 4 times, on cached features (benchmarks/science.py trains its tasks so too)."""
    settings = [f"runner.total_steps={steps}", f"runner.eval_step={max(1, steps // 4)}", f"optimizer.lr={lr}"]
    return [flag for value in [*settings, f"runner.feature_cache={feature_cache}"] for flag in ("-o", value)]


def _train_list(corpus: Path, out: Path) -> Path:
    """Pretraining sees only the training split's audio (dev/test stay unseen for the tasks)."""
    train_ids = set((corpus / "splits" / "train.txt").read_text().split())
    paths = sorted(p for p in corpus.rglob("*.flac") if p.stem in train_ids)
    listing = out / "pretrain_train_files.txt"
    listing.write_text("".join(f"{p.resolve()}\n" for p in paths), encoding="utf-8")
    return listing


def pretrain(s: DemoSettings, upstream: str, train_list: Path) -> tuple[Path, float, bool]:
    expdir = s.out / "pretrain" / upstream
    seconds, reused = _run_step(
        [
            sys.executable,
            "-m",
            "aalbert",
            "pretrain",
            "-u",
            upstream,
            "-c",
            PRETRAIN_RECIPE,
            "--expdir",
            str(expdir),
            "--threads",
            str(s.threads),
            "--seed",
            str(s.seed),
            "-o",
            f"data.roots=[{train_list}]",
            "-o",
            f"runner.total_steps={s.pretrain_steps}",
            "-o",
            f"runner.save_step={min(PRETRAIN_SAVE_EVERY, s.pretrain_steps)}",
        ],
        expdir,
        s.corpus,
        [find_recipe(PRETRAIN_RECIPE)],
        resumable=True,
    )
    ckpt = expdir / f"states-{s.pretrain_steps}.ckpt"
    if not ckpt.is_file():
        raise SystemExit(f"pretraining {upstream} finished without its final checkpoint {ckpt}")
    return ckpt, seconds, reused


def downstream(
    s: DemoSettings, upstream: str, ckpt: Path | None, task: str, feature_cache: Path, setting: str = "as is"
) -> tuple[dict, float, bool]:
    """Train ``task`` on the frozen ``upstream`` under a featurizer ``setting`` (a key of SETTINGS);
    its hidden states are computed once into ``feature_cache`` (shared by the tasks and settings of
    one upstream: the normalisation is the featurizer's, after the cache) instead of at every step."""
    expdir = s.out / "downstream" / f"{upstream}_{task}{SETTINGS[setting]}"
    featurizer = [flag for value in SETTING_OVERRIDES[setting] for flag in ("-o", value)]
    name = f"{upstream}_local" if ckpt is not None else upstream
    upstream_args = ["-u", name] + (["-k", str(ckpt)] if ckpt is not None else [])
    task_configs = load_task(task).config_files  # config.yaml and the bases it extends
    seconds, reused = _run_step(
        [
            sys.executable,
            "-m",
            "aalbert",
            "downstream",
            "-m",
            "train",
            *upstream_args,
            "-d",
            task,
            "--expdir",
            str(expdir),
            "--data",
            str(s.corpus),
            "--seed",
            str(s.seed),
            *small_head_overrides(s.downstream_steps, s.downstream_lr, feature_cache),
            *featurizer,
        ],
        expdir,
        s.corpus,
        task_configs + ([ckpt] if ckpt is not None else []),
        resumable=True,
    )
    return json.loads((expdir / "results.json").read_text()), seconds, reused


def run(s: DemoSettings) -> list[Row]:
    start = time.time()
    with FolderLock(s.out):  # one demo per output folder: a second one would delete the first's steps
        return _run_locked(s, start)


def _run_locked(s: DemoSettings, start: float) -> list[Row]:
    from aalbert.corpus import synthesize

    print(
        f"$ aalbert corpus synthesize --out {s.corpus} --speakers {s.speakers} "
        f"--utterances {s.utterances} --min-words {s.min_words} --max-words {s.max_words} --seed {s.seed}",
        flush=True,
    )
    synthesize(
        s.corpus,
        speakers=s.speakers,
        utterances=s.utterances,
        seed=s.seed,
        words_per_utterance=(s.min_words, s.max_words),
    )
    train_list = _train_list(s.corpus, s.out)

    rows, reused = [], []
    for upstream in ("fbank", *UPSTREAMS):
        ckpt, pre_seconds, pre_reused = pretrain(s, upstream, train_list) if upstream != "fbank" else (None, 0.0, False)
        cache = s.out / "features" / upstream
        trials: dict[str, list[Trial]] = {PHONE_TASK: [], SPEAKER_TASK: []}
        first: dict[str, dict] = {}
        seconds = 0.0
        reused.append(pre_reused)
        for task in trials:
            for setting in SETTINGS:
                results, took, was_reused = downstream(s, upstream, ckpt, task, cache, setting)
                first.setdefault(task, results)
                where = s.out / "downstream" / f"{upstream}_{task}{SETTINGS[setting]}" / "results.json"
                trials[task].append(trial_of(results, setting, where))
                seconds += took
                reused.append(was_reused)
        shutil.rmtree(cache, ignore_errors=True)  # gigabytes of frames, needed no more
        rows.append(
            chosen_row(
                upstream,
                first[PHONE_TASK]["upstream"]["num_parameters"],
                trials[PHONE_TASK],
                trials[SPEAKER_TASK],
                pre_seconds,
                seconds,
                chance_of(first[PHONE_TASK]),
                chance_of(first[SPEAKER_TASK]),
            )
        )
    text = write_table(rows, s.out, s, time.time() - start, reused=sum(reused))
    print("\n" + text)
    print(f"written: {s.out / 'results.md'}, {s.out / 'results.png'}")
    return rows


def main(argv: list[str] | None = None, prog: str = "aalbert demo") -> int:
    p = command_parser(
        prog,
        __doc__.splitlines()[0].strip("`: ").split(": ", 1)[-1],
        [
            "aalbert demo                       # writes demo_output/ and data/synth40/ in this folder",
            "aalbert demo --out /tmp/demo --corpus /tmp/synth40 --threads 4",
        ],
    )
    p.add_argument("--out", default="demo_output", help="where experiments and the table go")
    p.add_argument("--corpus", default="data/synth40", help="synthetic corpus folder (made once, then reused)")
    p.add_argument("--speakers", type=int, default=DemoSettings.speakers)
    p.add_argument("--utterances", type=int, default=DemoSettings.utterances)
    p.add_argument("--min-words", type=int, default=DemoSettings.min_words)
    p.add_argument("--max-words", type=int, default=DemoSettings.max_words)
    p.add_argument("--seed", type=int, default=DemoSettings.seed)
    p.add_argument("--pretrain-steps", type=int, default=DemoSettings.pretrain_steps)
    p.add_argument("--downstream-steps", type=int, default=DemoSettings.downstream_steps)
    p.add_argument("--downstream-lr", type=float, default=DemoSettings.downstream_lr)
    p.add_argument("--threads", type=int, default=DemoSettings.threads)
    a = p.parse_args(argv)
    run(from_flags(DemoSettings, a, out=Path(a.out).resolve(), corpus=Path(a.corpus).resolve()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
