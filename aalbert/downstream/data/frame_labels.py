"""Frame labels of your own (the label ``frame.NAME``): a class per 10 ms frame, from files or a task's hook.

``data.frame_labels.NAME`` names the source (paths from the corpus root, as every data path):

* ``{format: textgrid, path: FOLDER, tier: TIER}``: one TextGrid per utterance (its stem is the
  utterance id), any interval tier (default: the tier called NAME); empty intervals take ``fill``;
* ``{format: rttm, path: FILE or FOLDER}``: ``SPEAKER FILE CHANNEL START DUR <NA> <NA> NAME <NA> <NA>``
  lines (other line types are skipped). FILE is an utterance id (times from the utterance's start)
  or else the stem of an audio file (times in that file: each utterance of it takes the segments
  inside its span). Frames no segment covers take ``fill`` (default ``none``); where segments
  overlap, the one that started later wins until it ends (a short interjection inside a long turn
  shows, and the turn resumes after it). An utterance whose FILE is absent has no labels;
* ``{format: s3prl, path: FILE, names: LIST}``: s3prl's alignment format, ``UTTID id id ...`` (an
  id per 10 ms frame) with a class list of ``id name`` lines (default: beside the file, as for phones).

Without ``data.frame_labels.NAME`` the task's expert computes them (:mod:`.frame_label_hook`,
cached on disk). Timed labels become frames by the one convention (:mod:`aalbert.corpus.frames`)
and must tile the utterance as phones do (``data.label_gap_tolerance_s``, ``data.label_tolerance_s``);
every problem is collected with the file it is in and reported together.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.config import from_dict
from aalbert.corpus.frames import segment_frame_labels
from aalbert.corpus.problems import Problems, report_unmatched_lines
from aalbert.corpus.utterance import CorpusListing, Utterance
from aalbert.errors import MissingFileError, TaskRequirementError

from ..config import DataConfig, FrameLabelFiles
from .alignment import AlignmentError, find_phone_list, read_phone_list
from .attach import fitting_alignments, resolve, tiles_audio
from .frame_label_hook import frame_label_hook, hook_frame_labels
from .rttm import read_rttm, resolve_overlaps
from .textgrid import find_textgrids, read_textgrid_phones


class _Classes:
    """Class names as they are met (provisional ids), sorted at the end."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def id(self, name: str) -> int:
        return self.ids.setdefault(name, len(self.ids))

    def sorted_ids(self) -> tuple[list[str], list[int]]:
        """(sorted names, provisional id -> sorted id)."""
        names = sorted(self.ids)
        final = {n: i for i, n in enumerate(names)}
        return names, [final[n] for n in self.ids]


def attach_frame_labels(
    cfg: DataConfig, listing: CorpusListing, name: str, hook: object, task: str, problems: Problems
) -> list[str]:
    """The labels ``frame.NAME`` on every utterance that has them (``utt.labels["frame." + name]``:
    an id per 10 ms frame into the returned class names, which are sorted). From
    ``data.frame_labels.NAME`` when it is set, else from ``hook`` (the expert class defining
    ``frame_labels(name, wave)``, see :mod:`.frame_label_hook`); neither is an error naming both."""
    label = f"frame.{name}"
    classes = _Classes()
    raw = cfg.frame_labels.get(name)
    frames: Iterator[tuple[Utterance, list[int]]]
    if raw is not None:
        # checked when the config was built; a DataConfig made in Python may hold the plain mapping
        source = (
            raw
            if isinstance(raw, FrameLabelFiles)
            else from_dict(FrameLabelFiles, raw, key=f"data.frame_labels.{name}")
        )
        path = resolve(listing.root, source.path)
        if not path.exists():
            raise MissingFileError(f"data.frame_labels.{name}.path not found: {path}")
        read = {"textgrid": _textgrid_frames, "rttm": _rttm_frames, "s3prl": _s3prl_frames}[source.format]
        frames = read(source, path, name, cfg, listing, classes, problems)
    else:
        found = frame_label_hook(hook)
        if found is None:
            raise TaskRequirementError(
                f"task {task}: the label {label} has no source: set data.frame_labels.{name} "
                "({format: textgrid | rttm | s3prl, path: ...}) or define the expert's "
                "@staticmethod frame_labels(name, wave) -> a class name per 10 ms frame"
            )
        computed = hook_frame_labels(found, task, name, listing, problems, use_cache=cfg.scan_cache)
        frames = ((utt, [classes.id(c) for c in labels]) for utt, labels in computed)
    labelled = list(frames)  # read everything (and let the hook's cache be written) before renumbering
    names, final = classes.sorted_ids()
    for utt, ids in labelled:
        utt.labels[label] = [final[i] for i in ids]
    return names


def _frames(segments: list[tuple[int, int, str]], num_samples: int, fill: str, classes: _Classes) -> list[int]:
    """Named segments -> an id per frame (aalbert.corpus.frames); ``fill`` becomes a class only if a frame takes it."""
    ids = segment_frame_labels([(s, e, classes.id(text)) for s, e, text in segments], num_samples, fill=-1)
    return [classes.id(fill) if i < 0 else i for i in ids] if -1 in ids else ids


def _textgrid_frames(
    source: FrameLabelFiles,
    path: Path,
    name: str,
    cfg: DataConfig,
    listing: CorpusListing,
    classes: _Classes,
    problems: Problems,
) -> Iterator[tuple[Utterance, list[int]]]:
    grids = find_textgrids(path)
    if not grids:
        problems.add(path, f"no TextGrid files (*.TextGrid) for data.frame_labels.{name}")
    by_id = {u.uttid: u for u in listing.utterances}
    known = set(by_id) | listing.unusable_ids
    report_unmatched_lines(path, len(grids), [g.stem for g in grids if g.stem not in known], "utterances", "the corpus")
    tier = source.tier or name
    for grid in grids:
        utt = by_id.get(grid.stem)
        if utt is None:
            continue
        segments = read_textgrid_phones(grid, tier, problems, f"data.frame_labels.{name}.tier", "frame labels")
        if segments is None:
            continue
        named = [(s, e, text or source.fill) for s, e, text in segments]
        if tiles_audio(utt, named, cfg, problems, grid):
            yield utt, _frames(named, utt.measured_num_samples(), source.fill, classes)


def _rttm_frames(
    source: FrameLabelFiles,
    path: Path,
    name: str,
    cfg: DataConfig,
    listing: CorpusListing,
    classes: _Classes,
    problems: Problems,
) -> Iterator[tuple[Utterance, list[int]]]:
    files = sorted(p for p in path.rglob("*.rttm") if p.is_file()) if path.is_dir() else [path]
    if not files:
        problems.add(path, f"no RTTM files (*.rttm) for data.frame_labels.{name}")
    by_file = read_rttm(files, problems)
    where = files[0] if len(files) == 1 else path
    known = {u.uttid for u in listing.utterances} | listing.unusable_ids | {u.path.stem for u in listing.utterances}
    report_unmatched_lines(where, len(by_file), [f for f in by_file if f not in known], "files", "the corpus")
    for utt in listing.utterances:
        n = utt.measured_num_samples()
        if utt.uttid in by_file:
            segments = by_file[utt.uttid]
            late = next((s for s in segments if s.end > n + cfg.tolerance_samples), None)
            if late is not None:
                problems.add(
                    late.path,
                    f"utterance {utt.uttid}: the {late.label!r} segment runs to {late.end / SAMPLE_RATE:.3f} s, past "
                    f"the end of the audio ({n / SAMPLE_RATE:.3f} s) by more than data.label_tolerance_s",
                    late.line,
                )
                continue
        elif utt.path.stem in by_file:  # times in the recording: this utterance's span of it
            shifted = [replace(s, start=s.start - utt.start, end=s.end - utt.start) for s in by_file[utt.path.stem]]
            segments = [replace(s, start=max(s.start, 0)) for s in shifted if s.end > 0 and s.start < n]
        else:
            continue
        # ends are not cut at the utterance's end: its last frame, centred on sample n, takes what the
        # recording holds there (nothing, for an utterance that is the whole file: fill)
        yield utt, _frames(resolve_overlaps(segments, n, source.fill), n, source.fill, classes)


def _s3prl_frames(
    source: FrameLabelFiles,
    path: Path,
    name: str,
    cfg: DataConfig,
    listing: CorpusListing,
    classes: _Classes,
    problems: Problems,
) -> Iterator[tuple[Utterance, list[int]]]:
    try:
        names_path = resolve(listing.root, source.names) if source.names else find_phone_list(path)
    except AlignmentError as err:
        raise MissingFileError(f"{err}".replace("data.phone_list", f"data.frame_labels.{name}.names")) from err
    names = read_phone_list(names_path)
    ids = [classes.id(n) for n in names]  # every listed class, used or not
    for utt, labels in fitting_alignments(path, names, listing, problems):
        yield utt, [ids[x] for x in labels]
