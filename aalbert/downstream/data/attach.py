"""Phone labels onto a corpus listing: frame alignments (frame tasks) or phone sequences (CTC).

Sources, in order of precedence:

* frames: ``data.alignment`` (or ``ROOT/alignment``) holding s3prl alignments or MFA
  TextGrids; else the reader's own labels (TIMIT ``.PHN``, Lhotse phone alignments).
* sequences: ``data.transcripts`` (phone sequences), ``data.lexicon`` (+ the corpus's word
  transcripts), the reader's own sequences (TIMIT), else the frame alignments with repeats
  merged and silence dropped.

Every problem (unknown phone, labels longer or shorter than the audio, empty transcript, OOV
word) is collected and reported together; utterances without labels are skipped later, counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import overload

from aalbert.audio_rate import HOP_SAMPLES, SAMPLE_RATE
from aalbert.config_layers import setting_name
from aalbert.corpus.frames import num_frames, segment_frame_labels, tiling_problems
from aalbert.corpus.problems import Problems, report_unmatched_lines
from aalbert.corpus.utterance import CorpusListing, Utterance
from aalbert.errors import MissingFileError

from ..config import DataConfig
from .alignment import find_alignment_files, find_phone_list, read_alignments, read_phone_list
from .labels import MAX_MISMATCH, phone_sequence
from .phone_names import PhoneNamer
from .textgrid import find_textgrids, read_textgrid_phones
from .transcripts import read_lexicon, read_phone_transcripts, words_to_phones


@overload
def resolve(root: Path, path: str) -> Path: ...
@overload
def resolve(root: Path, path: None) -> None: ...
@overload
def resolve(root: Path, path: str | None) -> Path | None: ...


def resolve(root: Path, path: str | None) -> Path | None:
    """A path from the config: as given when it exists (or is absolute), else under the corpus root."""
    if path is None:
        return None
    p = Path(path).expanduser()
    return p if p.is_absolute() or p.exists() else root / p


def _namer(cfg: DataConfig, root: Path) -> PhoneNamer:
    fixed = read_phone_list(resolve(root, cfg.phone_list)) if cfg.phone_list else None
    return PhoneNamer(cfg.silence_phones, cfg.fold_phone_marks, fixed)


def frame_label_source(cfg: DataConfig, listing: CorpusListing) -> Path | str | None:
    """Where :func:`attach_frames` takes frame labels from: the alignment path (``data.alignment``, else
    ``ROOT/alignment``), ``"reader"`` (the reader's own: TIMIT ``.PHN``, Lhotse alignments) or None."""
    root = listing.root
    align_path = resolve(root, cfg.alignment)
    if align_path is None and (root / "alignment").exists():
        align_path = root / "alignment"
    if align_path is not None and not align_path.exists():
        raise MissingFileError(f"{setting_name('data.alignment')} not found: {align_path}")
    if align_path is not None:
        return align_path
    if listing.phone_names is not None or any(u.phone_segments for u in listing.utterances):
        return "reader"
    return None


def attach_frames(cfg: DataConfig, listing: CorpusListing, problems: Problems) -> list[str]:
    """Frame labels on every utterance that has them; returns the phone names (index = id)."""
    root = listing.root
    align_path = frame_label_source(cfg, listing)
    if isinstance(align_path, Path):
        textgrids = find_textgrids(align_path)
        if textgrids:
            by_id = {u.uttid: u for u in listing.utterances}
            for path in textgrids:
                if path.stem in by_id:
                    by_id[path.stem].phone_segments = read_textgrid_phones(path, cfg.textgrid_tier, problems)
                    by_id[path.stem].source = str(path)
            return _segments_to_frames(cfg, listing, problems)
        return _s3prl_frames(cfg, listing, align_path, problems)
    if listing.phone_names is not None:
        return listing.phone_names  # the reader labelled its frames (TIMIT)
    if any(u.phone_segments for u in listing.utterances):
        return _segments_to_frames(cfg, listing, problems)
    raise MissingFileError(
        f"this task needs phone alignments: set {setting_name('data.alignment')} (an s3prl alignment file or a "
        f"folder of MFA TextGrids; there is no {root / 'alignment'})"
    )


def _s3prl_frames(cfg: DataConfig, listing: CorpusListing, align_path: Path, problems: Problems) -> list[str]:
    root = listing.root
    names = read_phone_list(resolve(root, cfg.phone_list) or find_phone_list(align_path))
    for utt, labels in fitting_alignments(align_path, names, listing, problems):
        utt.phones = labels
    return names


def fitting_alignments(
    path: Path, names: list[str], listing: CorpusListing, problems: Problems
) -> Iterator[tuple[Utterance, list[int]]]:
    """The s3prl-style per-frame labels at ``path`` (``UTTID id id ...``, ids into ``names``) of each
    utterance they fit: one label per 10 ms frame, so no gap or overlap can hide inside and tiling is
    the count; framing conventions differ by a frame or two at the edges (aalbert.downstream.data.labels)."""
    files = find_alignment_files(path)
    alignments = read_alignments(files, num_phones=len(names))
    where = files[0] if len(files) == 1 else path
    report_unknown_ids(where, alignments, listing)
    for utt in listing.utterances:
        labels = alignments.get(utt.uttid)
        if labels is None:
            continue
        expected = num_frames(utt.measured_num_samples())
        if abs(len(labels) - expected) > MAX_MISMATCH:
            problems.add(
                where,
                f"utterance {utt.uttid}: {len(labels)} label frames ({len(labels) * HOP_SAMPLES / SAMPLE_RATE:.2f} s) "
                f"but its audio ({utt.source}) has {expected} frames ({utt.measured_num_samples() / SAMPLE_RATE:.2f} s); "
                f"more than {MAX_MISMATCH} frames apart: the labels do not fit the audio",
            )
            continue
        yield utt, labels


def tiles_audio(
    utt: Utterance, segments: list[tuple[int, int, str]], cfg: DataConfig, problems: Problems, where: str | Path = ""
) -> bool:
    """The segments tile the utterance (aalbert.corpus.frames.tiling_problems, as for TIMIT); each
    problem is reported against ``where`` (default: where the utterance was listed)."""
    untiled = tiling_problems(segments, utt.measured_num_samples(), cfg.gap_tolerance_samples, cfg.tolerance_samples)
    for message in untiled:
        problems.add(where or utt.source, f"utterance {utt.uttid}: {message}")
    return not untiled


def _segments_to_frames(cfg: DataConfig, listing: CorpusListing, problems: Problems) -> list[str]:
    namer = _namer(cfg, listing.root)
    named: dict[str, list[tuple[int, int, str]]] = {}
    used: set[str] = set()
    for utt in listing.utterances:
        if not utt.phone_segments:
            continue
        segments = [(s, e, namer.name(p)) for s, e, p in utt.phone_segments]
        unknown = sorted({p for _, _, p in segments if not namer.known(p) and p != namer.silence})
        if unknown:
            problems.add(utt.source, f"utterance {utt.uttid}: phone(s) {', '.join(unknown)} not in the phone list")
            continue
        if tiles_audio(utt, segments, cfg, problems):
            named[utt.uttid] = segments
            used.update(p for _, _, p in segments)
    names = namer.phone_names(used)
    ids = {n: i for i, n in enumerate(names)}
    for utt in listing.utterances:
        if utt.uttid in named:
            utt.phones = segment_frame_labels(
                [(s, e, ids[p]) for s, e, p in named[utt.uttid]], utt.measured_num_samples(), fill=ids[namer.silence]
            )
    return names


def attach_sequences(cfg: DataConfig, listing: CorpusListing, problems: Problems) -> tuple[list[str], set[int]]:
    """Phone sequences (CTC targets) on every utterance that has them; (phone names, silence ids)."""
    root = listing.root
    if cfg.transcripts:
        raw = read_phone_transcripts(resolve(root, cfg.transcripts), problems)
        report_unknown_ids(resolve(root, cfg.transcripts), raw, listing)
        return _named_sequences(cfg, listing, raw, cfg.transcripts, problems)
    if cfg.lexicon:
        lexicon_path = resolve(root, cfg.lexicon)
        words = {u.uttid: u.words for u in listing.utterances if u.words is not None}
        if not words:
            raise MissingFileError(
                f"data.lexicon is set but the {listing.format} corpus has no word transcripts "
                "(Kaldi text, LibriSpeech *.trans.txt or Lhotse supervision text)"
            )
        for uttid, w in words.items():
            if not w:
                problems.add(root, f"utterance {uttid} has an empty word transcript")
        raw = words_to_phones(
            {u: w for u, w in words.items() if w}, read_lexicon(lexicon_path, problems), lexicon_path, problems
        )
        return _named_sequences(cfg, listing, raw, cfg.lexicon, problems)
    if listing.phone_names is not None and any(u.phone_sequence for u in listing.utterances):
        names = listing.phone_names
        return names, {i for i, n in enumerate(names) if n in listing.silence_phones}
    names = attach_frames(cfg, listing, problems)
    silence = silence_ids(names, cfg.silence_phones) | {i for i, n in enumerate(names) if n in listing.silence_phones}
    for utt in listing.utterances:
        if utt.phones is not None:
            utt.phone_sequence = phone_sequence(utt.phones, silence)
    return names, silence


def _named_sequences(
    cfg: DataConfig, listing: CorpusListing, raw: dict[str, list[str]], source: str, problems: Problems
) -> tuple[list[str], set[int]]:
    """``raw`` phone names per utterance, read from ``source`` (data.transcripts or data.lexicon)."""
    namer = _namer(cfg, listing.root)
    named: dict[str, list[str]] = {}
    used: set[str] = set()
    for uttid, phones in raw.items():
        seq = [namer.name(p) for p in phones]
        seq = [p for p in seq if p != namer.silence]
        unknown = sorted({p for p in seq if not namer.known(p)})
        if unknown:
            problems.add(source, f"utterance {uttid}: phone(s) {', '.join(unknown)} not in the phone list")
        elif not seq and phones:
            problems.add(source, f"utterance {uttid}: the transcript holds only silence")
        else:
            named[uttid] = seq
            used.update(seq)
    names = namer.phone_names(used)
    ids = {n: i for i, n in enumerate(names)}
    for utt in listing.utterances:
        if utt.uttid in named:
            utt.phone_sequence = [ids[p] for p in named[utt.uttid]]
    return names, {ids[namer.silence]} if namer.silence in ids else set()


def report_unknown_ids(path: str | Path | None, by_id: dict, listing: CorpusListing) -> None:
    """Label lines for utterances the corpus does not have are left out, and said so (the ids of
    audio left out with data.bad_audio: skip are known: not reported)."""
    known = {u.uttid for u in listing.utterances} | listing.unusable_ids
    report_unmatched_lines(path or "", len(by_id), [u for u in by_id if u not in known], "utterances", "the corpus")


def silence_ids(names: list[str], silence_phones: list[str]) -> set[int]:
    return {i for i, name in enumerate(names) if name in set(silence_phones)}
