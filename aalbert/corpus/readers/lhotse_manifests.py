"""Lhotse manifests: a CutSet, or a RecordingSet + SupervisionSet (JSONL, optionally gzipped).

Read with the ``lhotse`` library (``pip install aalbert[lhotse]``), so every corpus Lhotse
has a recipe for can be used as it prepares it. ``root`` is a manifest file or a folder of
them (``*cuts*``, ``*recordings*``, ``*supervisions*``; several of a kind are pooled).

One utterance per supervision: its id, ``speaker``, ``gender`` and ``text`` (words), the span
it covers in its recording, and a ``phone`` alignment when the supervision has one (items
become timed phone segments, turned into frame labels like every other reader's). Audio must
be a file source at 16 kHz; ``command`` sources (shell pipelines) and URLs are refused.
"""

from __future__ import annotations

from pathlib import Path

from aalbert.audio import SAMPLE_RATE
from aalbert.errors import MissingFileError

from ..bad_audio import checked_listing
from ..frames import seconds_to_samples
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

MANIFEST_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")


def _import_lhotse():
    try:
        import lhotse
    except ImportError:
        raise ImportError("data.format=lhotse needs the lhotse package: pip install 'aalbert[lhotse]'") from None
    return lhotse


def manifest_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise MissingFileError(f"Lhotse manifest not found: {root}")
    files = sorted(p for p in root.iterdir() if p.is_file() and p.name.endswith(MANIFEST_SUFFIXES))
    if not files:
        raise MissingFileError(f"no Lhotse manifests (*.jsonl[.gz]) in {root}")
    return files


def _recording_path(recording, manifest: Path, problems: Problems) -> Path | None:
    where = f"{manifest} (recording {recording.id})"
    if recording.sampling_rate != SAMPLE_RATE:
        problems.add(
            where,
            f"sampling rate {recording.sampling_rate} Hz, expected {SAMPLE_RATE} Hz (resample the audio files first)",
        )
        return None
    if len(recording.sources) != 1:
        problems.add(where, f"{len(recording.sources)} audio sources; one file per recording is supported")
        return None
    source = recording.sources[0]
    if source.type != "file":
        pipeline = source.type == "command"
        why = " (a shell pipeline: refused, it would run a command from a data file)" if pipeline else ""
        problems.add(where, f"audio source of type {source.type!r}{why}; only 'file' sources are read")
        return None
    path = Path(source.source)
    path = path if path.is_absolute() else manifest.parent / path
    if not path.is_file():
        problems.add(where, f"audio file not found: {path}")
        return None
    return path


def _utterance(sup, recording, offset: float, path: Path, manifest: Path, problems: Problems) -> Utterance | None:
    where = f"{manifest} (supervision {sup.id})"
    if not sup.speaker:
        problems.add(where, "no speaker")
        return None
    start = seconds_to_samples(offset + sup.start)
    num_samples = seconds_to_samples(sup.duration)
    if start < 0 or num_samples <= 0 or start + num_samples > recording.num_samples + SAMPLE_RATE // 100:
        problems.add(
            where,
            f"span {offset + sup.start:.3f}+{sup.duration:.3f} s does not fit recording "
            f"{recording.id} ({recording.duration:.3f} s)",
        )
        return None
    num_samples = min(num_samples, recording.num_samples - start)
    utt = Utterance(sup.id, path, sup.speaker, start=start, num_samples=num_samples, source=where)
    if sup.text:
        utt.words = sup.text.split()
    phones = (sup.alignment or {}).get("phone")
    if phones:
        # alignment items and the supervision share one time origin, so this is relative to the utterance
        utt.phone_segments = [
            (seconds_to_samples(item.start - sup.start), seconds_to_samples(item.end - sup.start), item.symbol)
            for item in phones
        ]
    return utt


def read(spec: CorpusSpec) -> CorpusListing:
    lhotse = _import_lhotse()
    problems = Problems(f"the Lhotse manifests {', '.join(spec.roots)}", spec.bad_audio == "skip")
    recordings, supervisions, cuts = {}, [], []
    for root in map(Path, spec.roots):
        for manifest in manifest_files(root):
            try:
                loaded = lhotse.load_manifest(manifest)
            except Exception as err:  # lhotse raises several kinds for a file that is not a manifest
                problems.add(manifest, f"not a Lhotse manifest ({type(err).__name__}: {err})")
                continue
            if isinstance(loaded, lhotse.RecordingSet):
                recordings.update({r.id: (r, manifest) for r in loaded})
            elif isinstance(loaded, lhotse.SupervisionSet):
                supervisions += [(s, manifest) for s in loaded]
            elif isinstance(loaded, lhotse.CutSet):
                cuts += [(c, manifest) for c in loaded]
            else:
                problems.add(manifest, f"a {type(loaded).__name__}; expected cuts, recordings or supervisions")
    paths: dict[str, Path | None] = {}

    def path_of(recording, manifest: Path) -> Path | None:
        if recording.id not in paths:
            paths[recording.id] = _recording_path(recording, manifest, problems)
        return paths[recording.id]

    utterances: list[Utterance | None] = []  # None: a supervision refused (problems says why)
    speaker_info: dict[str, dict[str, str]] = {}
    for cut, manifest in cuts:
        if cut.recording is None:
            problems.add(manifest, f"cut {cut.id} has no recording")
            continue
        path = path_of(cut.recording, manifest)
        if path is None:
            continue
        for sup in cut.supervisions:
            utterances.append(_utterance(sup, cut.recording, cut.start, path, manifest, problems))
            if sup.gender:
                speaker_info[sup.speaker] = {"gender": sup.gender.lower()}
    for sup, manifest in supervisions:
        if sup.recording_id not in recordings:
            problems.add(manifest, f"supervision {sup.id}: recording {sup.recording_id} is in no recordings manifest")
            continue
        recording, rec_manifest = recordings[sup.recording_id]
        path = path_of(recording, rec_manifest)
        if path:
            utterances.append(_utterance(sup, recording, 0.0, path, manifest, problems))
            if sup.gender:
                speaker_info[sup.speaker] = {"gender": sup.gender.lower()}
    seen: set[str] = set()
    for utt in utterances:
        if utt is not None and utt.uttid in seen:
            problems.add(utt.source, f"utterance id {utt.uttid} appears twice")
        elif utt is not None:
            seen.add(utt.uttid)
    # the manifests say how long each recording is; decoding says whether the file holds it
    cache = AudioInfoCache("lhotse", spec.roots, spec.scan_cache, spec.audio_check_workers)
    return checked_listing(
        "lhotse",
        [Path(r) for r in spec.roots],
        [u for u in utterances if u is not None],
        cache,
        spec,
        problems,
        f"the Lhotse manifests {', '.join(spec.roots)}",
        speaker_info=speaker_info,
    )
