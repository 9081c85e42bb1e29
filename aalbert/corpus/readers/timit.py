"""TIMIT as distributed: ``ROOT/{TRAIN,TEST}/DR*/SPEAKER/SENTENCE.{WAV,PHN}`` (any case).

Either folder may be missing (NLTK's public sample has only training speakers); the
TRAIN/TEST membership is kept as the corpus's own partition, which speaker-disjoint splits use
as the test set. The SA sentences (read by every speaker) are left out, as is standard, and
counted. Each ``.PHN`` line is ``start end phone`` in samples over the 61 phones, folded to 39
(default) or 48 classes (:mod:`.timit_phones`).

Frame labels follow :mod:`aalbert.corpus.frames` and cover the whole audio: a ``.PHN`` that
stops short of the audio (real files do: ``DR3/MADC0/SI1367.PHN`` in the NLTK sample ends 2802
samples early) has its tail labelled as silence, as if the final ``h#`` ran to the end; one
that stops short, or runs past the audio, by more than ``label_tolerance_s`` is reported up
front with every other bad file. Inside the utterance the segments must tile it
(:func:`aalbert.corpus.frames.tiling_problems`): a gap or overlap of more than
``label_gap_tolerance_s`` (one frame) is reported the same way.
"""

from __future__ import annotations

from pathlib import Path

from aalbert.errors import AalbertError, MissingFileError

from ..bad_audio import checked_listing
from ..frames import segment_frame_labels, tiling_problems
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance
from ..walk import walk_files
from .timit_phones import SILENCE, fold_phone, phone_set

PARTS = ("train", "test")


class TimitError(AalbertError):
    """A malformed ``.PHN`` file; the message names the file and line."""


def read_phn(path: str | Path) -> list[tuple[int, int, str]]:
    """``(start, end, phone)`` segments as written (61-phone names); ``TimitError`` naming the line."""
    path = Path(path)
    segments: list[tuple[int, int, str]] = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 3:
            raise TimitError(f"{path}:{lineno}: expected 'start end phone', got {line!r}")
        try:
            start, end = int(parts[0]), int(parts[1])
        except ValueError:
            raise TimitError(f"{path}:{lineno}: sample offsets must be integers, got {line!r}") from None
        if end < start or (segments and start < segments[-1][0]):
            raise TimitError(f"{path}:{lineno}: segment {start}-{end} is reversed or out of order")
        segments.append((start, end, parts[2].lower()))
    if not segments:
        raise TimitError(f"{path}: no phone segments")
    return segments


def phn_frame_labels(
    segments: list[tuple[int, int, str]], num_samples: int, phones: list[str], size: int = 39
) -> list[int]:
    """Frame labels (ids into ``phones``) for ``num_samples`` of audio; ``q`` is dropped (its
    frames keep the phone before it) and audio past the last segment is silence."""
    folded = [(s, e, fold_phone(p, size)) for s, e, p in segments]
    kept = [(s, e, phones.index(p)) for s, e, p in folded if p is not None]
    return segment_frame_labels(kept, num_samples, fill=phones.index(SILENCE))


def phn_phone_sequence(segments: list[tuple[int, int, str]], phones: list[str], size: int = 39) -> list[int]:
    """CTC targets straight from the segments: folded, silence and ``q`` dropped, repeats merged."""
    out: list[int] = []
    for _, _, p in segments:
        folded = fold_phone(p, size)
        if folded is None or folded == SILENCE:
            continue
        idx = phones.index(folded)
        if not out or out[-1] != idx:
            out.append(idx)
    return out


def _parts(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        raise MissingFileError(f"TIMIT root not found: {root}")
    parts = {p.name.lower(): p for p in root.iterdir() if p.is_dir() and p.name.lower() in PARTS}
    if not parts:
        raise MissingFileError(f"{root} does not look like TIMIT: expected a TRAIN/ or TEST/ folder (or both)")
    return parts


def _phn_for(wav: Path) -> Path | None:
    for suffix in (".PHN", ".phn"):
        if wav.with_suffix(suffix).is_file():
            return wav.with_suffix(suffix)
    return None


def read(spec: CorpusSpec) -> CorpusListing:
    roots = [Path(r) for r in spec.roots]
    problems = Problems(f"the TIMIT corpus {', '.join(spec.roots)}", spec.bad_audio == "skip")
    cache = AudioInfoCache("timit", roots, spec.scan_cache, spec.audio_check_workers)
    phones = phone_set(spec.timit_phone_set)
    utterances, partition = [], {}
    skipped = {
        "SA sentences (read by every speaker; left out as is standard)": 0,
        "no .PHN file (usable for speaker tasks only)": 0,
    }
    found = [
        (part, wav)
        for root in roots
        for part, folder in sorted(_parts(root).items())
        for wav, _ in walk_files(folder, (".wav",))
    ]
    cache.prefetch(wav for _, wav in found if not wav.stem.upper().startswith("SA"))  # new files, in parallel
    for part, wav in found:
        if wav.stem.upper().startswith("SA"):
            skipped["SA sentences (read by every speaker; left out as is standard)"] += 1
            continue
        speaker = wav.parent.name.upper()
        uttid = f"{speaker}_{wav.stem.upper()}"
        num_samples = cache.usable_samples(wav, problems, uttid)
        if num_samples is None:
            continue
        utt = Utterance(uttid, wav, speaker, num_samples=num_samples, source=str(wav))
        phn = _phn_for(wav)
        if phn is None:
            skipped["no .PHN file (usable for speaker tasks only)"] += 1
        else:
            _attach_phn(utt, phn, phones, spec, problems)
        utterances.append(utt)
        partition[utt.uttid] = part
    what = f"the TIMIT corpus {', '.join(spec.roots)}"
    listing = checked_listing(
        "timit", roots, utterances, cache, spec, problems, what, phone_names=phones, silence_phones={SILENCE}
    )
    listing.partition = {u.uttid: partition[u.uttid] for u in listing.utterances}
    listing.skipped = skipped
    return listing


def _attach_phn(utt: Utterance, phn: Path, phones: list[str], spec: CorpusSpec, problems: Problems) -> None:
    size = spec.timit_phone_set
    try:
        segments = read_phn(phn)
    except TimitError as err:
        problems.add_message(str(err))  # already "file:line: problem"
        return
    for lineno, (_, _, p) in enumerate(segments, 1):
        try:
            fold_phone(p, size)
        except KeyError:
            problems.add(phn, f"unknown TIMIT phone {p!r}", lineno)
            return
    n = utt.measured_num_samples()
    # the segments as written, q included: a dropped q is the transcribers' choice, not a gap
    untiled = tiling_problems(segments, n, spec.gap_tolerance_samples, spec.tolerance_samples)
    for message in untiled:
        problems.add(phn, message)
    if untiled:
        return
    utt.phones = phn_frame_labels(segments, n, phones, size)
    utt.phone_sequence = phn_phone_sequence(segments, phones, size)
