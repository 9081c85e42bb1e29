"""LibriSpeech layout: ``[SUBSET/]SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac``.

The speaker is the first field of the utterance id; ``SPEAKER-CHAPTER.trans.txt`` gives the
words (CTC targets as characters or words; phones with a lexicon) and ``SPEAKERS.TXT`` each
speaker's sex. Phone alignments in s3prl's format are attached afterwards by the downstream loader.

A root holding the distributed subsets (``train-clean-100``, ``dev-clean``, ``test-clean``,
``test-other``...) is divided as they are named: the corpus's own partition (train-* -> train,
dev-* -> dev, test-* -> test), SUPERB's ASR split, given only when the subsets read (``data.subsets``,
or all under the root) include all three kinds.
"""

from __future__ import annotations

import re
from pathlib import Path

from aalbert.errors import MissingFileError

from ..bad_audio import checked_listing
from ..problems import Problems, report_unmatched_lines
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance
from ..walk import walk_files

_LIBRI_ID = re.compile(r"^(\d+)-(\d+)-(\d+)$")
_PARTS = ("train", "dev", "test")  # subset name prefixes: train-clean-100, dev-other, test-clean
AUDIO_SUFFIXES = (".flac", ".wav")


def speaker_of(uttid: str) -> str:
    match = _LIBRI_ID.match(uttid)
    if match:
        return match.group(1)
    # other corpora ("spk_utt", "spk-utt"): the first field names the speaker
    return re.split(r"[-_]", uttid, maxsplit=1)[0]


def _folders(spec: CorpusSpec) -> list[Path]:
    folders = []
    for root in map(Path, spec.roots):
        if not root.is_dir():
            raise MissingFileError(f"corpus root not found: {root}")
        for subset in spec.subsets or [""]:
            folder = root / subset if subset else root
            if not folder.is_dir():
                available = ", ".join(sorted(p.name for p in root.iterdir() if p.is_dir()))
                raise MissingFileError(f"subset {subset} not found under {root} (available: {available})")
            folders.append(folder)
    return folders


def read_transcripts(files: list[Path], known: set[str] | None = None) -> dict[str, list[str]]:
    """``UTTID WORD WORD ...`` lines of the ``*.trans.txt`` files; lines for utterances not in
    ``known`` (when given) are counted and reported, file by file."""
    words: dict[str, list[str]] = {}
    for path in files:
        lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines()]
        lines = [parts for parts in lines if parts]
        for parts in lines:
            words[parts[0]] = parts[1:]
        if known is not None:
            unknown = [parts[0] for parts in lines if parts[0] not in known]
            report_unmatched_lines(path, len(lines), unknown, "utterances", "the corpus's audio files")
    return words


def read_speakers_txt(path: Path) -> dict[str, dict[str, str]]:
    """``ID | SEX | SUBSET | MINUTES | NAME`` lines (``;`` starts a comment)."""
    info: dict[str, dict[str, str]] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith(";") or "|" not in line:
            continue
        fields = [f.strip() for f in line.split("|")]
        if len(fields) >= 2 and fields[0]:
            info[fields[0]] = {"gender": fields[1].lower()}
    return info


def subset_partition(utterances: list[Utterance], roots: list[Path]) -> dict[str, str]:
    """uttid -> train/dev/test from each file's subset folder (``ROOT/SUBSET/SPEAKER/CHAPTER/FILE``);
    empty unless every utterance lies in a train-*, dev-* or test-* subset and all three occur."""
    partition = {}
    for utt in utterances:
        subset = next((_subset(utt.path, root) for root in roots if utt.path.is_relative_to(root)), "")
        part = subset.split("-", 1)[0]
        if "-" not in subset or part not in _PARTS:  # a root that is itself one subset, or another folder
            return {}
        partition[utt.uttid] = part
    return partition if set(partition.values()) == set(_PARTS) else {}


def _subset(path: Path, root: Path) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) == 4 else ""


def read(spec: CorpusSpec) -> CorpusListing:
    problems = Problems(f"the LibriSpeech-layout corpus {', '.join(spec.roots)}", spec.bad_audio == "skip")
    cache = AudioInfoCache("librispeech", [str(f) for f in _folders(spec)], spec.scan_cache, spec.audio_check_workers)
    utterances: list[Utterance] = []
    seen: dict[str, Path] = {}
    transcripts: list[Path] = []
    audio: list[Path] = []
    for folder in _folders(spec):
        transcripts += [p for p, _ in walk_files(folder, (".txt",)) if p.name.endswith(".trans.txt")]
        audio += [p for p, _ in walk_files(folder, AUDIO_SUFFIXES)]
    cache.prefetch(audio)  # headers and decoding of new files, in parallel
    for path in audio:
        uttid = path.stem
        if uttid in seen:
            problems.add(path, f"utterance id {uttid} appears twice (also {seen[uttid]})")
            continue
        seen[uttid] = path
        frames = cache.usable_samples(path, problems)
        if frames is None:
            continue
        utterances.append(Utterance(uttid, path, speaker_of(uttid), num_samples=frames, source=str(path)))
    what = f"the corpus {', '.join(spec.roots)}"
    listing = checked_listing("librispeech", [Path(r) for r in spec.roots], utterances, cache, spec, problems, what)
    # a transcript of a file left out as bad audio names an utterance that exists: not reported
    words = read_transcripts(transcripts, set(seen))
    for utt in listing.utterances:
        utt.words = words.get(utt.uttid)
    listing.partition = subset_partition(listing.utterances, listing.roots)
    for root in listing.roots:
        if (root / "SPEAKERS.TXT").is_file():
            listing.speaker_info.update(read_speakers_txt(root / "SPEAKERS.TXT"))
    return listing
