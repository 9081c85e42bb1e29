"""Kaldi data directories: ``wav.scp``, ``utt2spk``, optional ``segments``, ``text``,
``reco2dur``, and every ``utt2X`` / ``spk2X`` file as metadata (``spk2gender`` -> ``speaker.gender``,
``spk2age`` -> ``speaker.age``, ``utt2score`` -> ``utterance.score``; aalbert.corpus.metadata);
several directories (e.g. ``train`` and ``test``) are pooled.

``wav.scp`` lines are ``RECORDING PATH``. Entries that are shell pipelines (``... |``) or
archive offsets (``x.ark:123``) are refused: running commands found in a data file is not
something a training script should do; convert the audio to files first (e.g. with
``wav-copy`` or ``sox``). A relative path is resolved against ``wav_root`` when given, else
against the data directory, else against its parent (corpora ship ``train/wav.scp`` with paths
relative to the corpus root); the log says which folder was used.

Without ``segments`` each recording is one utterance (utterance id = recording id); with it,
utterances are ``UTT RECORDING START END`` (seconds; END -1 = to the end of the recording).
"""

from __future__ import annotations

import logging
from pathlib import Path

from aalbert.audio import SAMPLE_RATE, AudioError
from aalbert.errors import MissingFileError

from ..bad_audio import checked_listing
from ..frames import seconds_to_samples
from ..metadata import MetadataFile, attach_metadata, kaldi_metadata_files
from ..problems import Problems, report_unmatched_lines
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

log = logging.getLogger(__name__)


def read_table(
    path: Path, problems: Problems, min_fields: int = 2, max_fields: int | None = 2, rest_joined: bool = False
) -> dict[str, tuple[list[str], int]]:
    """``KEY FIELD ...`` lines -> key -> (fields, line number); bad lines go to ``problems``."""
    table: dict[str, tuple[list[str], int]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split(maxsplit=1) if rest_joined else line.split()
        if len(parts) < min_fields or (max_fields is not None and len(parts) > max_fields):
            want = f"{min_fields}" if max_fields == min_fields else f"at least {min_fields}"
            problems.add(path, f"expected {want} fields, got {line!r}", lineno)
            continue
        if parts[0] in table:
            problems.add(path, f"{parts[0]} listed twice (first on line {table[parts[0]][1]})", lineno)
            continue
        table[parts[0]] = (parts[1:], lineno)
    return table


def _base_folder(data_dir: Path, rel_paths: list[str], wav_root: str | None) -> Path:
    """Where relative wav.scp paths live: ``wav_root``, else the data dir, else its parent."""
    if wav_root:
        return Path(wav_root)
    candidates = [data_dir, data_dir.parent]
    if not rel_paths:
        return data_dir
    found = [sum((c / p).is_file() for p in rel_paths[:200]) for c in candidates]
    return candidates[0] if found[0] >= found[1] else candidates[1]


def read_data_dir(data_dir: Path, spec: CorpusSpec, cache: AudioInfoCache, problems: Problems) -> list[Utterance]:
    wav_scp = data_dir / "wav.scp"
    utt2spk_path = data_dir / "utt2spk"
    for required in (wav_scp, utt2spk_path):
        if not required.is_file():
            problems.add(data_dir, f"not a Kaldi data directory: {required.name} is missing")
    if problems:
        return []
    recordings: dict[str, tuple[Path, int]] = {}
    entries = read_table(wav_scp, problems, max_fields=None, rest_joined=True)
    plain: dict[str, tuple[str, int]] = {}
    for rec, (fields, lineno) in entries.items():
        value = fields[0].strip()
        if value.endswith("|") or "|" in value:
            problems.add(
                wav_scp,
                f"recording {rec} is a shell pipeline ({value!r}); pipelines are refused because "
                "they would run commands from a data file: convert the audio to files "
                "(e.g. with sox or wav-copy) and list their paths",
                lineno,
            )
        elif len(value.split()) > 1:
            problems.add(wav_scp, f"recording {rec}: expected one path, got {value!r}", lineno)
        elif ".ark:" in value or value.startswith(("ark:", "scp:")):
            problems.add(wav_scp, f"recording {rec} points into a Kaldi archive ({value!r}); list audio files", lineno)
        else:
            plain[rec] = (value, lineno)
    base = _base_folder(data_dir, [v for v, _ in plain.values() if not Path(v).is_absolute()], spec.wav_root)
    if any(not Path(v).is_absolute() for v, _ in plain.values()):
        how = "wav_root" if spec.wav_root else ("the data directory" if base == data_dir else "its parent folder")
        log.info("%s: relative wav.scp paths resolved against %s (%s)", wav_scp, base, how)
    reco_length: dict[str, int] = {}
    unusable: set[str] = set()  # recordings left out as bad audio (data.bad_audio: skip)
    paths = {rec: Path(value) if Path(value).is_absolute() else base / value for rec, (value, _) in plain.items()}
    cache.prefetch(paths.values())  # headers and decoding of new files, in parallel
    for rec, (_, lineno) in plain.items():
        path = paths[rec]
        try:
            frames, rate = cache.info(path)
        except FileNotFoundError:
            problems.add(wav_scp, f"recording {rec}: audio file not found: {path}", lineno)
            continue
        except AudioError as err:
            problems.add_audio(wav_scp, f"recording {rec}: {err}", lineno)
            unusable.add(rec)
            continue
        if rate != SAMPLE_RATE:
            problems.add_audio(wav_scp, f"recording {rec}: {path} is {rate} Hz, expected {SAMPLE_RATE} Hz", lineno)
            unusable.add(rec)
            continue
        recordings[rec] = (path, lineno)
        reco_length[rec] = frames
    _check_reco2dur(data_dir / "reco2dur", reco_length, set(entries), problems)
    utt2spk = read_table(utt2spk_path, problems)
    utterances, unusable_utts = _utterances(
        data_dir, recordings, reco_length, set(entries), unusable, utt2spk, problems
    )
    problems.skipped_ids.update(unusable_utts)
    listed = {u.uttid for u in utterances} | unusable_utts
    # as Kaldi's utils/fix_data_dir.sh: lines for utterances that do not exist are left out, and said so
    _report_unmatched(utt2spk_path, utt2spk, listed, "wav.scp" if not (data_dir / "segments").is_file() else "segments")
    if (data_dir / "text").is_file():
        text = read_table(data_dir / "text", problems, min_fields=1, max_fields=None)
        _report_unmatched(data_dir / "text", text, listed, "utt2spk")
        for utt in utterances:
            if utt.uttid in text:
                utt.words = text[utt.uttid][0]
    return utterances


def _report_unmatched(path: Path, table: dict[str, tuple[list[str], int]], known: set[str], where: str) -> None:
    unknown = [key for key in table if key not in known]
    report_unmatched_lines(path, len(table), unknown, "utterances", where)


def _check_reco2dur(path: Path, reco_length: dict[str, int], listed: set[str], problems: Problems) -> None:
    """``reco2dur`` must agree with the audio headers (within 10 ms): else wav.scp points elsewhere."""
    if not path.is_file():
        return
    table = read_table(path, problems)
    report_unmatched_lines(path, len(table), [r for r in table if r not in listed], "recordings", "wav.scp")
    for rec, (fields, lineno) in table.items():
        if rec in reco_length:
            try:
                seconds = float(fields[0])
            except ValueError:
                problems.add(path, f"recording {rec}: duration must be a number", lineno)
                continue
            actual = reco_length[rec] / SAMPLE_RATE
            if abs(actual - seconds) > 0.01:
                problems.add(path, f"recording {rec}: {seconds:.3f} s here but the audio lasts {actual:.3f} s", lineno)


def _utterances(
    data_dir: Path,
    recordings: dict[str, tuple[Path, int]],
    reco_length: dict[str, int],
    listed: set[str],
    unusable: set[str],
    utt2spk: dict[str, tuple[list[str], int]],
    problems: Problems,
) -> tuple[list[Utterance], set[str]]:
    """The utterances, and the ids of those left out with their ``unusable`` recordings."""
    segments_path = data_dir / "segments"
    out = []
    left_out = set(unusable)
    if segments_path.is_file():
        left_out = set()
        for uttid, (fields, lineno) in read_table(segments_path, problems, 4, 4).items():
            rec, start_s, end_s = fields
            if rec not in recordings:
                if rec not in listed:  # a listed but unusable recording is reported already
                    problems.add(segments_path, f"utterance {uttid}: recording {rec} is not in wav.scp", lineno)
                elif rec in unusable:
                    left_out.add(uttid)
                continue
            try:
                start, end = seconds_to_samples(float(start_s)), float(end_s)
            except ValueError:
                problems.add(segments_path, f"utterance {uttid}: start and end must be numbers", lineno)
                continue
            length = reco_length[rec]
            stop = length if end < 0 else seconds_to_samples(end)
            if not 0 <= start < stop or stop > length + SAMPLE_RATE // 100:
                problems.add(
                    segments_path,
                    f"utterance {uttid}: segment {start_s}-{end_s} s does not fit recording "
                    f"{rec} ({length / SAMPLE_RATE:.3f} s)",
                    lineno,
                )
                continue
            out.append(
                Utterance(
                    uttid,
                    recordings[rec][0],
                    "",
                    start=start,
                    num_samples=min(stop, length) - start,
                    source=f"{segments_path}:{lineno}",
                )
            )
    else:
        out = [
            Utterance(rec, path, "", num_samples=reco_length[rec], source=f"{data_dir / 'wav.scp'}:{lineno}")
            for rec, (path, lineno) in recordings.items()
        ]
    for utt in out:
        if utt.uttid not in utt2spk:
            problems.add(data_dir / "utt2spk", f"utterance {utt.uttid} has no speaker")
        else:
            utt.speaker = utt2spk[utt.uttid][0][0]
    return out, left_out


def read(spec: CorpusSpec) -> CorpusListing:
    dirs = [Path(r) for r in spec.roots]
    problems = Problems(
        f"the Kaldi data director{'y' if len(dirs) == 1 else 'ies'} {', '.join(spec.roots)}", spec.bad_audio == "skip"
    )
    cache = AudioInfoCache("kaldi", dirs, spec.scan_cache, spec.audio_check_workers)
    utterances: list[Utterance] = []
    where: dict[str, Path] = {}
    speaker_info: dict[str, dict[str, str]] = {}
    metadata: list[MetadataFile] = []
    for data_dir in dirs:
        if not data_dir.is_dir():
            raise MissingFileError(f"Kaldi data directory not found: {data_dir}")
        found = read_data_dir(data_dir, spec, cache, problems)
        for utt in found:
            if utt.uttid in where:
                problems.add(
                    data_dir,
                    f"utterance {utt.uttid} is also in {where[utt.uttid]}: pooled directories "
                    "need distinct utterance ids",
                )
                continue
            where[utt.uttid] = data_dir
            utterances.append(utt)
        metadata += [MetadataFile(str(path)) for path in kaldi_metadata_files(data_dir)]
    what = f"the Kaldi data {', '.join(spec.roots)}"
    listing = checked_listing("kaldi", dirs, utterances, cache, spec, problems, what, speaker_info=speaker_info)
    # every utt2X / spk2X file is metadata (spk2gender -> speaker.gender, utt2age -> utterance.age)
    attach_metadata(listing, metadata, problems)
    problems.raise_if_any()
    for info in listing.speaker_info.values():
        if "gender" in info:
            info["gender"] = info["gender"].lower()
    return listing
