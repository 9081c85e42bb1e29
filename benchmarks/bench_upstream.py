"""Inference speed and memory of our upstream vs s3prl's on the same checkpoint (CPU).

For each model a random-weight, paper-size s3prl-format checkpoint is written, loaded by both
implementations, and run on a batch of 8 x 10 s (real speech from ``--audio DIR``, tiled to
length; without it a generated speech-like batch) with ``torch.set_num_threads(2)``. Timings alternate A/B/A/B in one
process so machine load hits both alike. Peak memory is measured per implementation in a fresh
subprocess (peak RSS, VmHWM, after one forward, and its rise over RSS after loading). Also prints the fraction
of the machine's measured 2-thread fp32 GEMM rate each model reaches (model FLOPs / time).

    python benchmarks/bench_upstream.py                      # all models, 3 repeats
    python benchmarks/bench_upstream.py --models mockingjay_3l --repeats 1
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from aalbert.upstream import factory
from aalbert.upstream.checkpoint import save_s3prl_checkpoint, upstream_from_checkpoint
from aalbert.upstream.model import build_spec_head

MODELS = {
    "mockingjay_3l": factory.mockingjay_3l,
    "mockingjay_12l": factory.mockingjay_12l,
    "aalbert_3l": factory.aalbert_3l,
    "aalbert_12l": factory.aalbert_12l,
}
SR = 16000


def make_batch(batch: int, seconds: float, audio: Path | None = None) -> tuple[list[torch.Tensor], str]:
    n = int(seconds * SR)
    if audio is None:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
        from speech_waves import make_speech_like

        return [make_speech_like(seconds, seed=i) for i in range(batch)], "generated speech-like waves"
    from aalbert.audio import find_audio_files, load_audio

    files = find_audio_files(audio)
    if len(files) < batch:
        raise SystemExit(f"--audio {audio}: {len(files)} audio files, the batch needs {batch}")
    wavs = []
    for path in files[:batch]:
        wav = load_audio(path)
        wavs.append(wav.repeat(n // wav.numel() + 1)[:n])  # tile short files up to the length
    return wavs, f"real speech ({audio})"


def write_checkpoint(name: str, stacking: int, folder: Path) -> Path:
    torch.manual_seed(0)
    model = MODELS[name](stacking=stacking)
    head = build_spec_head(model.encoder_config, model.features.target_dim)
    return save_s3prl_checkpoint(
        folder / f"{name}_dr{stacking}.ckpt", model.encoder, head, model.feature_config, step=0
    )


def load(impl: str, ckpt: Path):
    if impl == "ours":
        model = upstream_from_checkpoint(ckpt)
        return model, lambda wavs: model(wavs)
    from s3prl.upstream.mockingjay.expert import UpstreamExpert

    with contextlib.redirect_stdout(io.StringIO()):
        model = UpstreamExpert(str(ckpt)).eval()
    return model, lambda wavs: model(wavs)


def run(impl: str, fn, wavs):
    # s3prl's downstream runner wraps a frozen upstream in no_grad; ours uses inference_mode
    ctx = torch.inference_mode() if impl == "ours" else torch.no_grad()
    with ctx:
        return fn(wavs)


def rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """VmHWM: this process's peak RSS. Not ru_maxrss, which a child inherits from the forking
    parent across exec on Linux (it would report the benchmark parent's size)."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def measure_memory(impl: str, ckpt: Path, batch: int, seconds: float, audio: Path | None) -> dict:
    torch.set_num_threads(2)
    wavs, _ = make_batch(batch, seconds, audio)
    _, fn = load(impl, ckpt)
    after_load = rss_mib()
    run(impl, fn, wavs)
    peak = peak_rss_mib()
    return {"after_load_mib": after_load, "peak_mib": peak, "forward_delta_mib": peak - after_load}


def gemm_gflops(threads: int, size: int = 2048, repeats: int = 5) -> float:
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best / 1e9


def model_gflop(cfg, batch: int, frames: int) -> float:
    """Matmul FLOPs of one forward (features and elementwise ops not counted)."""
    t = frames // cfg.stacking
    h, i = cfg.hidden_size, cfg.intermediate_size
    per_layer = 2 * t * h * 3 * h + 2 * t * h * h + 2 * 2 * t * h * i + 2 * 2 * t * t * h
    return batch * (2 * t * cfg.input_dim * cfg.stacking * h + cfg.num_hidden_layers * per_layer) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--models", nargs="+", default=["mockingjay_3l", "mockingjay_12l", "aalbert_12l"], choices=sorted(MODELS)
    )
    parser.add_argument("--stacking", type=int, nargs="+", default=[1], choices=[1, 3])
    parser.add_argument("--repeats", type=int, default=3, help="timed A/B pairs per model")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--audio", type=Path, help="folder of real speech (default: generated speech-like waves)")
    parser.add_argument("--measure-memory", nargs=2, metavar=("IMPL", "CKPT"), help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure_memory:
        print(
            json.dumps(
                measure_memory(
                    args.measure_memory[0], Path(args.measure_memory[1]), args.batch, args.seconds, args.audio
                )
            )
        )
        return

    torch.set_num_threads(args.threads)
    wavs, source = make_batch(args.batch, args.seconds, args.audio)
    audio_seconds = args.batch * args.seconds
    gemm = gemm_gflops(args.threads)
    torch.set_num_threads(args.threads)
    print(
        f"# {args.batch} x {args.seconds:g} s of {source}; {args.threads} threads; torch {torch.__version__}; "
        f"fp32 GEMM {gemm:.1f} GFLOP/s; load avg {os.getloadavg()[0]:.2f} (shared machine: read ratios, not absolutes)"
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            for stacking in args.stacking:
                ckpt = write_checkpoint(name, stacking, Path(tmp))
                models = {impl: load(impl, ckpt) for impl in ("ours", "s3prl")}
                cfg = models["ours"][0].encoder_config
                # same outputs, checked on the benchmark batch itself
                outs = {impl: run(impl, fn, wavs[:1]) for impl, (_, fn) in models.items()}
                diff = (outs["ours"]["last_hidden_state"] - outs["s3prl"]["last_hidden_state"]).abs().max().item()
                times = {"ours": [], "s3prl": []}
                for impl, (_, fn) in models.items():  # warm-up
                    run(impl, fn, wavs)
                for _ in range(args.repeats):
                    for impl, (_, fn) in models.items():
                        t = time.perf_counter()
                        run(impl, fn, wavs)
                        times[impl].append(time.perf_counter() - t)
                del models, outs
                mem = {}
                if not args.no_memory:
                    for impl in ("ours", "s3prl"):
                        res = subprocess.run(
                            [
                                sys.executable,
                                __file__,
                                "--measure-memory",
                                impl,
                                str(ckpt),
                                "--batch",
                                str(args.batch),
                                "--seconds",
                                str(args.seconds),
                                *(["--audio", str(args.audio)] if args.audio else []),
                            ],
                            capture_output=True,
                            text=True,
                            check=True,
                        )
                        mem[impl] = json.loads(res.stdout.strip().splitlines()[-1])
                gflop = model_gflop(cfg, args.batch, int(args.seconds * SR) // 160 + 1)
                for impl in ("ours", "s3prl"):
                    best = min(times[impl])
                    rows.append(
                        {
                            "model": f"{name} dr{stacking}",
                            "impl": impl,
                            "best_s": best,
                            "audio_s_per_s": audio_seconds / best,
                            "gemm_fraction": gflop / best / gemm,
                            "peak_mib": mem.get(impl, {}).get("peak_mib"),
                            "delta_mib": mem.get(impl, {}).get("forward_delta_mib"),
                            "max_diff": diff,
                        }
                    )
                ours, theirs = rows[-2], rows[-1]
                print(
                    f"{ours['model']}: ours {ours['audio_s_per_s']:.1f} vs s3prl {theirs['audio_s_per_s']:.1f} "
                    f"audio s/s -> {ours['audio_s_per_s'] / theirs['audio_s_per_s']:.2f}x  (max |diff| {diff:.1e})",
                    flush=True,
                )

    print("\n| model | impl | audio s / s | speed-up | peak RSS MiB | forward RSS delta MiB | GEMM fraction |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for i in range(0, len(rows), 2):
        for row in rows[i : i + 2]:
            speedup = row["audio_s_per_s"] / rows[i + 1]["audio_s_per_s"]
            peak = "-" if row["peak_mib"] is None else f"{row['peak_mib']:.0f}"
            delta = "-" if row["delta_mib"] is None else f"{row['delta_mib']:.0f}"
            print(
                f"| {row['model']} | {row['impl']} | {row['audio_s_per_s']:.1f} | {speedup:.2f}x | {peak} | {delta} "
                f"| {row['gemm_fraction']:.0%} |"
            )


if __name__ == "__main__":
    main()
