"""``aalbert corpus``: make the synthetic corpus, or look at any corpus the readers know.

aalbert corpus synthesize --out data/synth40 --speakers 40 --utterances 25
aalbert corpus inspect data/synth40                       # LibriSpeech layout (the default)
aalbert corpus inspect --format kaldi data/train --wav-root /data
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING

from aalbert.command_flags import add_debug_flag
from aalbert.errors import UsageError, report_error

if TYPE_CHECKING:
    from aalbert.audio import Channel

PROG = "aalbert corpus"


def parse_args(argv: list[str] | None, prog: str = PROG) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Make the synthetic corpus, or look at any corpus the readers know.",
        epilog="examples:\n" + "\n".join(__doc__.split("\n\n")[1].splitlines()[:3]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    synth = commands.add_parser(
        "synthesize",
        aliases=["synth"],
        help="synthesize the eSpeak NG corpus with exact phone alignments (reused if already there)",
    )
    synth.add_argument("--out", required=True, help="output folder")
    synth.add_argument("--speakers", type=int, default=40)
    synth.add_argument("--utterances", type=int, default=25, help="utterances per speaker")
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--workers", type=int, default=2, help="worker processes")
    synth.add_argument("--min-words", type=int, default=5)
    synth.add_argument("--max-words", type=int, default=20)
    synth.add_argument("--subset", default="synth", help="name of the LibriSpeech-style subset folder")
    synth.add_argument("--no-progress", action="store_true")
    inspect = commands.add_parser(
        "inspect",
        help="read a corpus with its reader and print what it holds "
        "(utterances, speakers, hours, phone labels, what was skipped); a corpus with bad files "
        "(e.g. labels with a gap or overlap) lists every problem with its file and time, exit 1",
    )
    inspect.add_argument("roots", nargs="+", help="corpus folder(s), Kaldi data dir(s) or Lhotse manifest(s)")
    inspect.add_argument("--format", default="librispeech", help="reader: librispeech, timit, kaldi, lhotse, ...")
    inspect.add_argument("--subsets", default="", help="comma-separated LibriSpeech subsets (default: all)")
    inspect.add_argument("--wav-root", help="Kaldi: folder that relative wav.scp paths start from")
    inspect.add_argument(
        "--bad-audio",
        choices=("error", "skip"),
        default="error",
        help="every audio file is decoded: list the files that do not decode cleanly as an error "
        "(default), or count them as skipped (data.bad_audio)",
    )
    inspect.add_argument("--channel", help="which wave of multi-channel files: mean or an index (data.channel)")
    inspect.add_argument("--json", action="store_true", help="print the summary as JSON")
    inspect.add_argument(
        "--alignment",
        help="phone labels to check against the audio as training checks them: an s3prl alignment file or "
        "folder, or a folder of MFA TextGrids (data.alignment); Lhotse phone alignments are checked without it",
    )
    for sub in (synth, inspect):
        add_debug_flag(sub)
    return parser.parse_args(argv)


def synthesize_command(args: argparse.Namespace) -> None:
    from .synthetic import synthesize

    if args.speakers < 1 or args.utterances < 1:  # checked here too: a usage error, before any work
        raise UsageError(f"need at least one speaker and one utterance, got {args.speakers} x {args.utterances}")
    start = time.time()
    root = synthesize(
        args.out,
        speakers=args.speakers,
        utterances=args.utterances,
        seed=args.seed,
        workers=args.workers,
        words_per_utterance=(args.min_words, args.max_words),
        subset=args.subset,
        progress=not args.no_progress,
    )
    meta = json.loads((root / "corpus.json").read_text())
    print(
        f"{root}: {meta['num_utterances']} utterances, {len(meta['speakers'])} speakers, "
        f"{meta['total_hours']:.2f} h, {len(meta['phones'])} phone classes ({time.time() - start:.1f} s)"
    )


def corpus_summary(listing) -> dict:
    """What a reader found: counts a person checks before training on a corpus."""
    from aalbert.audio import SAMPLE_RATE  # late: torch; the parser is torch-free

    utts = listing.utterances
    samples = [u.num_samples or 0 for u in utts]
    per_speaker = Counter(u.speaker for u in utts)
    return {
        "format": listing.format,
        "roots": [str(r) for r in listing.roots],
        "utterances": len(utts),
        "speakers": len(per_speaker),
        "utterances_per_speaker": {"min": min(per_speaker.values()), "max": max(per_speaker.values())},
        "hours": round(sum(samples) / SAMPLE_RATE / 3600, 4),
        "seconds_per_utterance": {
            "min": round(min(samples) / SAMPLE_RATE, 2),
            "max": round(max(samples) / SAMPLE_RATE, 2),
        },
        "with_frame_phones": sum(u.phones is not None for u in utts),
        "with_phone_sequence": sum(u.phone_sequence is not None for u in utts),
        "with_words": sum(u.words is not None for u in utts),
        "phone_classes": len(listing.phone_names) if listing.phone_names else None,
        "partitions": dict(Counter(listing.partition.values())) if listing.partition else {},
        "skipped": dict(listing.skipped),
        "unusable_audio": list(listing.unusable),
    }


def _channel(value: str | None) -> Channel:
    if value is None:
        return None
    if value == "mean":
        return "mean"
    if not value.isdigit():
        raise UsageError(f"--channel must be mean or a channel index (0, 1, ...), got {value!r}")
    return int(value)


def _check_labels(args: argparse.Namespace, listing) -> None:
    """Timed labels checked as training checks them (they tile the utterance and fit the audio):
    ``--alignment``'s, or the Lhotse phone alignments the reader found; all problems in one error."""
    if args.alignment is None and not any(u.phone_segments for u in listing.utterances):
        return
    # a command may use the downstream label readers (TextGrids, s3prl alignments)
    from aalbert.downstream.config import DataConfig
    from aalbert.downstream.data.attach import attach_frames

    from .problems import Problems

    cfg = DataConfig(format=args.format, roots=list(args.roots), alignment=args.alignment)
    problems = Problems(f"the phone labels of {', '.join(args.roots)}")
    listing.phone_names = attach_frames(cfg, listing, problems)
    problems.raise_if_any()


def inspect_command(args: argparse.Namespace) -> None:
    from .registry import read_corpus
    from .spec import CorpusSpec

    spec = CorpusSpec(
        format=args.format,
        roots=list(args.roots),
        wav_root=args.wav_root,
        subsets=[s for s in args.subsets.split(",") if s],
        bad_audio=args.bad_audio,
        channel=_channel(args.channel),
    )
    listing = read_corpus(spec)
    _check_labels(args, listing)
    summary = corpus_summary(listing)
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = parse_args(argv, prog)
    try:
        (inspect_command if args.command == "inspect" else synthesize_command)(args)
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, prog, args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
