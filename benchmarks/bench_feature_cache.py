"""The feature cache's storage dtype: size on disk, write and read time, and error, float32 vs float16 vs bfloat16.

The hidden states of a random-weight Mockingjay-3L (paper size) over real speech (``--audio``) are
computed once, then stored in a disk cache of each dtype and read back (every hidden state of every
utterance, as a weighted-sum featurizer reads them). The error is ||read - fp32|| / ||fp32|| over
all of them. The downstream accuracy change of each dtype is measured by
``benchmarks/bench_precision.py --corpus`` (phone and speaker tasks, same seed and steps).

    python benchmarks/bench_feature_cache.py --audio ../shared/data/librispeech-test-other-10spk --files 40
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from aalbert.audio import find_audio_files, load_audio
from aalbert.downstream.feature_cache import FeatureCache, cache_manifest
from aalbert.upstream import factory

DTYPES = ("float32", "float16", "bfloat16")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--audio", type=Path, required=True, help="folder of real speech")
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    files = find_audio_files(args.audio)[: args.files]
    torch.manual_seed(0)
    model = factory.mockingjay_3l()
    states: dict[str, list[torch.Tensor]] = {}
    with torch.inference_mode():
        for path in files:
            out = model([load_audio(path)])
            states[path.stem] = [h[0].clone() for h in out["hidden_states"]]
    ids = list(states)
    seconds = sum(s[0].shape[0] for s in states.values()) / 100
    print(f"# {len(ids)} utterances, {seconds:.0f} s of speech, {len(states[ids[0]])} hidden states of 768")
    print("\n| storage dtype | size MiB | size vs float32 | write s | read s | relative error |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    base_size = None
    for dtype in DTYPES:
        with tempfile.TemporaryDirectory() as tmp:
            cache = FeatureCache(len(states[ids[0]]), Path(tmp), dtype)
            cache.open(cache_manifest("mockingjay_3l_random", None, 0, "none", dtype))
            t = time.perf_counter()
            for uttid in ids:
                cache.put(uttid, states[uttid])
            write = time.perf_counter() - t
            t = time.perf_counter()
            read = [cache.layer(layer, ids) for layer in range(cache.num_hidden_states)]
            read_s = time.perf_counter() - t
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*.pt"))
            base_size = base_size or size
            num = sum(
                float((r - states[u][layer]).norm() ** 2) for layer, rs in enumerate(read) for u, r in zip(ids, rs)
            )
            den = sum(float(h.norm() ** 2) for s in states.values() for h in s)
            print(
                f"| {dtype} | {size / 2**20:.1f} | {size / base_size:.2f} | {write:.2f} | {read_s:.2f} "
                f"| {(num / den) ** 0.5:.1e} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
