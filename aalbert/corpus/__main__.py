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
from dataclasses import replace
from typing import TYPE_CHECKING

import yaml

from aalbert.command_flags import add_debug_flag
from aalbert.errors import UsageError, report_error

if TYPE_CHECKING:
    from aalbert.audio import Channel

    from .metadata import MetadataFile

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
        help="read a corpus as the commands read it and print what they will use (utterances, speakers, "
        "hours, frame labels and phone classes, split lists, speaker and utterance metadata, what was "
        "skipped); a corpus with bad files (e.g. labels with a gap or overlap) lists every problem with its "
        "file and time, exit 1",
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
        "folder, or a folder of MFA TextGrids (data.alignment; default: ROOT/alignment when there is one, "
        "else the reader's own: TIMIT .PHN, Lhotse phone alignments)",
    )
    inspect.add_argument(
        "--splits", help="folder of train/dev/test.txt utterance lists (data.splits; default: ROOT/splits)"
    )
    inspect.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a reader option (data.options.KEY), e.g. --option protocol=verification; repeatable",
    )
    inspect.add_argument(
        "--metadata",
        action="append",
        default=[],
        metavar="FILE",
        help="a metadata file (data.metadata): a Kaldi utt2X / spk2X file, or utterance:TABLE / speaker:TABLE for "
        "a CSV, TSV or JSON table keyed by its first column; repeatable",
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


def corpus_summary(
    listing,
    frame_labels_from: str | None = None,
    split_lists: str | None = None,
    split_ids: dict[str, list[str]] | None = None,
) -> dict:
    """What a reader found, with the labels the commands attach (:func:`commands_labels`): counts a
    person checks before training on a corpus. ``split_ids``: the split lists the commands would read."""
    from aalbert.audio import SAMPLE_RATE  # late: torch; the parser is torch-free

    from .metadata import metadata_fields

    utts = listing.utterances
    samples = [u.num_samples or 0 for u in utts]
    per_speaker = Counter(u.speaker for u in utts)
    by_id = {u.uttid: u for u in utts}
    splits = {
        split: {
            "utterances": len(ids),
            "speakers": len({by_id[i].speaker for i in ids}),
            "with_frame_phones": sum(by_id[i].phones is not None for i in ids),
        }
        for split, ids in (split_ids or {}).items()
    }
    split_of_speaker: dict[str, set[str]] = {}
    for split, ids in (split_ids or {}).items():
        for i in ids:
            split_of_speaker.setdefault(by_id[i].speaker, set()).add(split)
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
        "frame_labels_from": frame_labels_from,
        "phone_classes": len(listing.phone_names) if listing.phone_names else None,
        "partitions": dict(Counter(listing.partition.values())) if listing.partition else {},  # the reader's own
        "split_lists": split_lists,
        "splits": splits,
        # speaker-disjoint tasks (speaker attributes) pass over lists that share speakers
        "speakers_in_several_splits": sum(len(s) > 1 for s in split_of_speaker.values()),
        "speaker_metadata": metadata_fields([listing.speaker_info.get(s, {}) for s in sorted(per_speaker)], "speakers"),
        "utterance_metadata": metadata_fields([u.info for u in utts], "utterances"),
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


def commands_labels(cfg, listing) -> dict:
    """The frame labels and split lists the commands would take from this corpus, found and checked by
    their own code (aalbert.downstream.data: timed labels must tile the utterance and fit the audio; all
    problems in one error): the arguments :func:`corpus_summary` takes beside the listing."""
    # a command may use the downstream label readers (TextGrids, s3prl alignments) and split lists
    from aalbert.downstream.data.attach import attach_frames, frame_label_source
    from aalbert.downstream.data.corpus import TaskData
    from aalbert.downstream.data.split_choice import choose_splits, split_lists_folder

    from .problems import Problems

    found: dict = {}
    source = frame_label_source(cfg, listing)
    if source is not None:
        problems = Problems(f"the phone labels of {', '.join(cfg.roots)}")
        listing.phone_names = attach_frames(cfg, listing, problems)
        problems.raise_if_any()
        found["frame_labels_from"] = str(source)
    folder = split_lists_folder(cfg, listing)
    if folder is not None:
        by_id = {u.uttid: u for u in listing.utterances}
        found["split_lists"] = str(folder)
        found["split_ids"] = choose_splits(cfg, listing, TaskData(), by_id)
    return found


def _text(value, nested: bool = False) -> str:
    """A summary value on one line: a dict as ``key value, ...``, one inside another in parentheses."""
    if not isinstance(value, dict):
        return str(value)
    text = ", ".join(f"{k} {_text(v, nested=True)}" for k, v in value.items()) or "none"
    return f"({text})" if nested and value else text


def _options(pairs: list[str]) -> dict:
    """``KEY=VALUE`` pairs (values read as YAML, as -o reads them) -> data.options."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"--option {pair}: expected KEY=VALUE")
        options[key] = yaml.safe_load(value)
    return options


def _metadata_entry(text: str) -> MetadataFile:
    from .metadata import MetadataFile  # late: the parser is torch-free

    per, sep, path = text.partition(":")
    if sep and per in ("utterance", "speaker"):
        return MetadataFile(path, per=per)  # type: ignore[arg-type]
    return MetadataFile(text)


def inspect_command(args: argparse.Namespace) -> None:
    from aalbert.downstream.config import DataConfig  # the downstream's data section: read as it reads it

    from .registry import read_corpus

    cfg = DataConfig(
        format=args.format,
        roots=list(args.roots),
        wav_root=args.wav_root,
        subsets=[s for s in args.subsets.split(",") if s],
        bad_audio=args.bad_audio,
        channel=_channel(args.channel),
        alignment=args.alignment,
        splits=args.splits,
        options=_options(args.option),
    )
    listing = read_corpus(cfg.corpus_spec())
    if args.metadata:
        from aalbert.downstream.data.attach import resolve

        from .metadata import attach_metadata
        from .problems import Problems

        problems = Problems(f"the metadata files of {', '.join(cfg.roots)}")
        entries = [_metadata_entry(m) for m in args.metadata]
        attach_metadata(listing, [replace(e, path=str(resolve(listing.root, e.path))) for e in entries], problems)
        problems.raise_if_any()
    summary = corpus_summary(listing, **commands_labels(cfg, listing))
    if args.json:
        print(json.dumps(summary, indent=2))
        return
    width = max(map(len, summary))
    for key, value in summary.items():
        print(f"{key:<{width}}  {_text(value)}")


def main(argv: list[str] | None = None, prog: str = PROG) -> int:
    args = parse_args(argv, prog)
    try:
        (inspect_command if args.command == "inspect" else synthesize_command)(args)
    except Exception as err:  # noqa: BLE001 - user errors one line, bugs with their traceback
        return report_error(err, prog, args.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
