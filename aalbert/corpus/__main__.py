"""``python -m aalbert.corpus synth --out DIR --speakers S --utterances U --seed N``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from .errors import CorpusError
from .synth import synthesize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aalbert.corpus",
                                     description="Synthetic mini-LibriSpeech with exact phone alignments.")
    commands = parser.add_subparsers(dest="command", required=True)
    synth = commands.add_parser("synth", help="synthesize a corpus (reused if already there)")
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--speakers", type=int, default=40)
    synth.add_argument("--utterances", type=int, default=25, help="utterances per speaker")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=int, default=2, help="worker processes")
    synth.add_argument("--min-words", type=int, default=5)
    synth.add_argument("--max-words", type=int, default=20)
    synth.add_argument("--subset", default="synth", help="name of the LibriSpeech-style subset folder")
    synth.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)

    start = time.time()
    try:
        root = synthesize(args.out, speakers=args.speakers, utterances=args.utterances, seed=args.seed,
                          workers=args.workers, words_per_utterance=(args.min_words, args.max_words),
                          subset=args.subset, progress=not args.no_progress)
    except (CorpusError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    meta = json.loads((root / "corpus.json").read_text())
    print(f"{root}: {meta['num_utterances']} utterances, {len(meta['speakers'])} speakers, "
          f"{meta['total_hours']:.2f} h, {len(meta['phones'])} phone classes ({time.time() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
