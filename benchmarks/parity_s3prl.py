"""Hidden-state parity with s3prl 0.4.18 on the published models' shapes, long utterances included.

For each shape of the published checkpoints (AALBERT logMelBase: 3 shared layers; Mockingjay
logMelBase: 3 layers; Mockingjay logMelLinearLarge: 12 layers, linear target,
sequence_length 500), a paper-size (hidden 768) checkpoint is written the way s3prl's
``run_pretrain.py`` writes it (random weights; see tests/upstream/s3prl_pretrain_checkpoints.py)
and loaded by both toolkits. Each utterance goes through s3prl's ``UpstreamExpert`` alone (its
reference output) and through ours alone and inside one padded batch of all of them; the table
gives the largest absolute difference over every hidden state. Utterances: real speech from
``--audio`` (FLAC/WAV files, tiled to length), else generated speech-like waves; lengths around
the chunking boundaries (sequence_length +- 1 frame, 2 x sequence_length + 1) and 15.0 s / 22.8 s
(1501 / 2281 frames: s3prl forwards them in 2 pieces with sequence_length 1500).

    python benchmarks/parity_s3prl.py                      # all three shapes
    python benchmarks/parity_s3prl.py --shapes mockingjay_logMelLinearLarge --audio DIR
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "upstream"))
sys.path.insert(0, str(ROOT / "tests"))

from s3prl.upstream.mockingjay.expert import UpstreamExpert  # noqa: E402
from s3prl_pretrain_checkpoints import SHAPES, write_checkpoint  # noqa: E402
from speech_waves import make_speech_like  # noqa: E402

from aalbert.checkpoint_file import SkippedPickleWarning  # noqa: E402
from aalbert.upstream.checkpoint import upstream_from_checkpoint  # noqa: E402

HOP = 160


def source_audio(folder: Path | None) -> list[torch.Tensor]:
    if folder is None:
        return [make_speech_like(6.0, seed=s) for s in range(4)]
    from aalbert.audio import find_audio_files, load_audio

    files = find_audio_files(folder)[:8]
    if not files:
        raise SystemExit(f"no audio files under {folder}")
    return [load_audio(f) for f in files]


def wave_of(frames: int, sources: list[torch.Tensor], index: int) -> torch.Tensor:
    """A wave of exactly ``frames`` feature frames, tiled from the source audio."""
    samples = (frames - 1) * HOP + HOP // 2
    wav = sources[index % len(sources)]
    return wav.repeat(samples // wav.numel() + 1)[:samples]


def max_diff(ours: list[torch.Tensor], theirs: list[torch.Tensor], row: int = 0) -> float:
    n = theirs[0].shape[0]
    return max((a[row, :n] - b).abs().max().item() for a, b in zip(ours, theirs))


def run(shape: str, sources: list[torch.Tensor], folder: Path) -> None:
    path = write_checkpoint(folder / f"{shape}.ckpt", shape, hidden=768, heads=12, ffn=3072)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedPickleWarning)
        ours = upstream_from_checkpoint(path)
    with contextlib.redirect_stdout(io.StringIO()):
        theirs = UpstreamExpert(str(path)).eval()
    length = SHAPES[shape]["sequence_length"]
    frames = sorted({length - 1, length, length + 1, 2 * length + 1, 1501, 2281})
    waves = [wave_of(n, sources, i) for i, n in enumerate(frames)]
    with torch.inference_mode():
        batched = ours(waves)["hidden_states"]
    print(f"\n{shape}: {SHAPES[shape]['layers']} layers, sequence_length {length}, hidden 768")
    print(
        f"{'frames':>7} {'seconds':>8} {'s3prl pieces':>12} {'alone vs s3prl':>15} {'in batch vs s3prl':>18} "
        f"{'unchunked vs s3prl':>19}"
    )
    for i, (n, wave) in enumerate(zip(frames, waves)):
        with torch.inference_mode():
            reference = [h[0] for h in theirs([wave])["hidden_states"]]
            alone = ours([wave])["hidden_states"]
            ours.max_input_length = 0  # what forwarding whole utterances would give
            whole = ours([wave])["hidden_states"]
            ours.max_input_length = length
        pieces = -(-n // length) if n > length else 1
        print(
            f"{n:>7} {wave.numel() / 16000:>8.2f} {pieces:>12} {max_diff(alone, reference):>15.2e} "
            f"{max_diff(batched, reference, row=i):>18.2e} {max_diff(whole, reference):>19.2e}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated: " + ", ".join(SHAPES))
    parser.add_argument("--audio", type=Path, default=None, help="folder of real speech (default: generated waves)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    sources = source_audio(args.audio)
    print(f"audio: {args.audio or 'generated speech-like waves'}; max abs difference over all hidden states")
    with tempfile.TemporaryDirectory() as tmp:
        for shape in args.shapes.split(","):
            run(shape, sources, Path(tmp))


if __name__ == "__main__":
    main()
