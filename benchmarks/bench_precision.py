"""int8 and bf16 inference against our fp32 and s3prl's fp32, side by side in one run (CPU).

For each model a random-weight, paper-size s3prl-format checkpoint is written and loaded four ways:
ours fp32, ours int8 (dynamic quantization), ours bf16 (autocast), s3prl 0.4.18 fp32. On one batch of
real speech (``--audio``, tiled to ``--seconds``) it prints throughput (timings alternate between the
four, best of ``--repeats``), peak RSS (one fresh subprocess each) and the relative error of every
hidden state, ||x - fp32|| / ||fp32||. With ``--corpus`` (a synthetic corpus with phone alignments,
``aalbert corpus synth``) it then trains phone_linear and speaker_frame on the frozen features of
Mockingjay-3L in fp32, int8 and bf16, and on fp32 features stored in a float16 / bfloat16 feature
cache, same seed and steps, and prints the test accuracy of each and its change from fp32.

    python benchmarks/bench_precision.py --audio ../shared/data/librispeech-test-other-10spk \
        --corpus /tmp/synth --batch 4 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_upstream import load, make_batch, peak_rss_mib, rss_mib, run, write_checkpoint

from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.precision import apply_precision

IMPLS = ("fp32", "int8", "bf16", "s3prl")


def load_impl(impl: str, ckpt: Path):
    if impl == "s3prl":
        return load("s3prl", ckpt)
    model = apply_precision(upstream_from_checkpoint(ckpt), impl, "cpu")
    return model, lambda wavs: model(wavs)


def run_impl(impl: str, fn, wavs):
    return run("s3prl" if impl == "s3prl" else "ours", fn, wavs)


def measure_memory(impl: str, ckpt: Path, args) -> dict:
    torch.set_num_threads(args.threads)
    wavs, _ = make_batch(args.batch, args.seconds, args.audio)
    _, fn = load_impl(impl, ckpt)
    after_load = rss_mib()
    run_impl(impl, fn, wavs)
    return {"after_load_mib": after_load, "peak_mib": peak_rss_mib()}


def speed_rows(args, wavs) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            ckpt = write_checkpoint(name, 1, Path(tmp))
            models = {impl: load_impl(impl, ckpt) for impl in IMPLS}
            outs = {impl: run_impl(impl, fn, wavs) for impl, (_, fn) in models.items()}  # also the warm-up
            ref = outs["fp32"]["hidden_states"]
            errors = {
                impl: [float((h - r).norm() / r.norm()) for h, r in zip(outs[impl]["hidden_states"], ref)]
                for impl in IMPLS
            }
            del outs
            times: dict[str, list[float]] = {impl: [] for impl in IMPLS}
            for _ in range(args.repeats):
                for impl, (_, fn) in models.items():
                    t = time.perf_counter()
                    run_impl(impl, fn, wavs)
                    times[impl].append(time.perf_counter() - t)
            del models
            mem = {}
            for impl in IMPLS if not args.no_memory else ():
                cmd = [sys.executable, __file__, "--measure-memory", impl, str(ckpt), *args.forward_args]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                mem[impl] = json.loads(res.stdout.strip().splitlines()[-1])["peak_mib"]
            for impl in IMPLS:
                rows.append({"model": name, "impl": impl, "best_s": min(times[impl]), "errors": errors[impl]})
                rows[-1]["peak_mib"] = mem.get(impl)
            fp32 = min(times["fp32"])
            print(
                f"{name}: " + ", ".join(f"{i} {fp32 / min(times[i]):.2f}x fp32" for i in IMPLS[1:]),
                f"| int8 max rel err {max(errors['int8']):.2e}",
                flush=True,
            )
    return rows


def print_speed(rows: list[dict], audio_seconds: float) -> None:
    print(
        "\n| model | impl | audio s / s | vs our fp32 | vs s3prl fp32 | peak RSS MiB | max rel. error | per hidden state |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for row in rows:
        same = [r for r in rows if r["model"] == row["model"]]
        fp32 = next(r for r in same if r["impl"] == "fp32")["best_s"]
        s3prl = next(r for r in same if r["impl"] == "s3prl")["best_s"]
        peak = "-" if row["peak_mib"] is None else f"{row['peak_mib']:.0f}"
        per = " ".join(f"{e:.1e}" for e in row["errors"]) if row["impl"] != "fp32" else "-"
        print(
            f"| {row['model']} | {row['impl']} | {audio_seconds / row['best_s']:.1f} | {fp32 / row['best_s']:.2f}x "
            f"| {s3prl / row['best_s']:.2f}x | {peak} | {max(row['errors']):.1e} | {per} |"
        )


# The metric each downstream run is compared on (speaker_frame reports frame and utterance accuracy).
TASK_METRIC = {"phone_linear": "accuracy", "speaker_frame": "frame_accuracy"}


def downstream_rows(args) -> list[dict]:
    """phone_linear and speaker_frame on frozen Mockingjay-3L features in each precision / cache dtype."""
    import logging

    from aalbert.downstream.experiment_config import build_config
    from aalbert.downstream.runner import Runner
    from aalbert.upstream import factory

    logging.disable(logging.INFO)
    variants = [tuple(v.split(":")) for v in args.variants]  # (precision, cache storage dtype)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "features"
        for task in args.tasks:
            for precision, dtype in variants:
                overrides = [
                    f"data.roots=[{args.corpus}]",
                    f"runner.total_steps={args.steps}",
                    f"runner.eval_step={args.steps}",
                    f"runner.log_step={args.steps}",
                    "optimizer.lr=0.01",
                    f"runner.feature_cache={cache}",
                    f"runner.feature_cache_dtype={dtype}",
                    f"precision={precision}",
                ]
                cfg = build_config(task, overrides=overrides, upstream="mockingjay_3l_random")
                torch.manual_seed(0)  # the same random upstream for every variant
                upstream = factory.mockingjay_3l()
                t = time.perf_counter()
                runner = Runner(cfg, Path(tmp) / f"{task}-{precision}-{dtype}", upstream=upstream, progress=False)
                result = runner.train()
                test = result["metrics"]["test"]
                accuracy = test[TASK_METRIC[task]]
                rows.append({"task": task, "precision": precision, "dtype": dtype, "accuracy": accuracy})
                rows[-1]["seconds"] = time.perf_counter() - t
                print(f"{task} {precision} cache {dtype}: test {TASK_METRIC[task]} {accuracy:.4f}", flush=True)
        sizes = {}
        for folder in cache.iterdir():
            if folder.is_dir():
                manifest = json.loads((folder / "manifest.json").read_text())
                key = (manifest.get("precision", "fp32"), manifest.get("storage_dtype", "float32"))
                sizes[key] = sum(p.stat().st_size for p in folder.rglob("*.pt"))
        for row in rows:
            row["cache_bytes"] = sizes.get((row["precision"], row["dtype"]))
    return rows


def print_downstream(rows: list[dict]) -> None:
    print(
        "\n| task | upstream precision | cache dtype | test accuracy (speaker_frame: per frame) | change vs fp32 (points) | cache size MiB |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: |")
    for row in rows:
        base = next(
            r for r in rows if r["task"] == row["task"] and r["precision"] == "fp32" and r["dtype"] == "float32"
        )
        size = "-" if row["cache_bytes"] is None else f"{row['cache_bytes'] / 2**20:.1f}"
        print(
            f"| {row['task']} | {row['precision']} | {row['dtype']} | {100 * row['accuracy']:.2f}% "
            f"| {100 * (row['accuracy'] - base['accuracy']):+.2f} | {size} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["mockingjay_3l", "mockingjay_12l", "aalbert_12l"])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--tasks", nargs="+", default=list(TASK_METRIC), choices=list(TASK_METRIC))
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--audio", type=Path, help="folder of real speech (default: generated speech-like waves)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--corpus", type=Path, help="synthetic corpus with phone alignments: the downstream part")
    parser.add_argument("--steps", type=int, default=300, help="training steps of each downstream task")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument(
        "--variants",
        nargs="+",
        default=["fp32:float32", "int8:float32", "bf16:float32", "fp32:float16", "fp32:bfloat16"],
        help="PRECISION:CACHE_DTYPE pairs of the downstream part (the first is the reference; bf16 is "
        "emulated, 4x slower, on CPUs without bf16 instructions)",
    )
    parser.add_argument("--measure-memory", nargs=2, metavar=("IMPL", "CKPT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.forward_args = ["--batch", str(args.batch), "--seconds", str(args.seconds), "--threads", str(args.threads)]
    args.forward_args += ["--audio", str(args.audio)] if args.audio else []
    torch.set_num_threads(args.threads)
    if args.measure_memory:
        print(json.dumps(measure_memory(args.measure_memory[0], Path(args.measure_memory[1]), args)))
        return
    print(
        f"# torch {torch.__version__}, {args.threads} threads, CPU capability {torch.backends.cpu.get_cpu_capability()}, "
        f"load avg {os.getloadavg()[0]:.2f} (shared machine: read ratios within one run)"
    )
    if not args.skip_speed:
        wavs, source = make_batch(args.batch, args.seconds, args.audio)
        print(f"# {args.batch} x {args.seconds:g} s of {source}")
        print_speed(speed_rows(args, wavs), args.batch * args.seconds)
    if args.corpus:
        print_downstream(downstream_rows(args))


if __name__ == "__main__":
    main()
