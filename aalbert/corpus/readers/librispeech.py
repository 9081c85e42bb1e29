"""LibriSpeech layout: ``[SUBSET/]SPEAKER/CHAPTER/SPEAKER-CHAPTER-UTT.flac``.

The speaker is the first field of the utterance id; ``SPEAKER-CHAPTER.trans.txt`` gives the
words (used with a lexicon for CTC targets) and ``SPEAKERS.TXT`` each speaker's sex. Phone
alignments in s3prl's format are attached afterwards by the downstream loader.
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
    for root in listing.roots:
        if (root / "SPEAKERS.TXT").is_file():
            listing.speaker_info.update(read_speakers_txt(root / "SPEAKERS.TXT"))
    return listing
