"""The generated tone corpus (tone_corpus.py) written in other layouts: TIMIT, Kaldi, Lhotse,
MFA TextGrids. Same audio and phone timing, so every reader must give the same utterances."""

from __future__ import annotations

import json
from pathlib import Path

import soundfile

TIMIT_NAME = {"sil": "h#"}  # the tone corpus's other phones (aa iy s m) are TIMIT names already


def tone_segments(root: Path) -> dict[str, list[list]]:
    return json.loads((root / "tone_segments.json").read_text())


def tone_files(root: Path) -> dict[str, Path]:
    return {p.stem: p for p in sorted(root.rglob("*.flac"))}


def write_timit(
    tone_root: Path, out: Path, parts: dict[str, list[str]] | None = None, phn_short_by: dict[str, int] | None = None
) -> Path:
    """``out/{TRAIN,TEST}/DR1/SPK<speaker>/SX<n>.{WAV,PHN}``; ``parts`` maps TRAIN/TEST to tone
    speakers (default: all in TRAIN); ``phn_short_by`` cuts a .PHN's last segment short."""
    segments = tone_segments(tone_root)
    files = tone_files(tone_root)
    speakers = sorted({u.split("-")[0] for u in files})
    parts = parts or {"TRAIN": speakers}
    for part, spks in parts.items():
        for uttid, path in files.items():
            spk, _, n = uttid.split("-")
            if spk not in spks:
                continue
            folder = out / part / "DR1" / f"MSPK{spk}"
            folder.mkdir(parents=True, exist_ok=True)
            wave, sr = soundfile.read(path, dtype="float32")
            soundfile.write(folder / f"SX{int(n)}.WAV", wave, sr)
            segs = [list(s) for s in segments[uttid]]
            short = (phn_short_by or {}).get(uttid, 0)
            if short > 0:  # the transcription stops ``short`` samples before the audio
                cut = segs[-1][1] - short
                segs = [[s, min(e, cut), p] for s, e, p in segs if s < cut]
            else:  # or runs past it
                segs[-1][1] -= short
            (folder / f"SX{int(n)}.PHN").write_text("".join(f"{s} {e} {TIMIT_NAME.get(p, p)}\n" for s, e, p in segs))
    return out


def write_kaldi(
    tone_root: Path,
    data_dir: Path,
    relative_to: Path | None = None,
    uttids: list[str] | None = None,
    text: dict[str, str] | None = None,
) -> Path:
    """A Kaldi data dir over the tone corpus files (one recording per utterance)."""
    files = tone_files(tone_root)
    uttids = sorted(uttids or files)
    data_dir.mkdir(parents=True, exist_ok=True)

    def where(p: Path) -> str:
        return str(p.relative_to(relative_to)) if relative_to else str(p)

    (data_dir / "wav.scp").write_text("".join(f"{u} {where(files[u])}\n" for u in uttids))
    (data_dir / "utt2spk").write_text("".join(f"{u} {u.split('-')[0]}\n" for u in uttids))
    if text:
        (data_dir / "text").write_text("".join(f"{u} {text[u]}\n" for u in uttids if u in text))
    return data_dir


def write_lhotse(tone_root: Path, out: Path, with_alignment: bool = True, as_cuts: bool = False) -> Path:
    """RecordingSet + SupervisionSet (or one CutSet) manifests over the tone corpus files."""
    from lhotse import CutSet, Recording, RecordingSet, SupervisionSegment, SupervisionSet
    from lhotse.supervision import AlignmentItem

    segments = tone_segments(tone_root)
    recordings, supervisions = [], []
    for uttid, path in tone_files(tone_root).items():
        rec = Recording.from_file(path, recording_id=uttid)
        recordings.append(rec)
        ali = None
        if with_alignment and uttid in segments:
            ali = {"phone": [AlignmentItem(p, s / 16000, (e - s) / 16000) for s, e, p in segments[uttid]]}
        supervisions.append(
            SupervisionSegment(uttid, uttid, 0.0, rec.duration, speaker=uttid.split("-")[0], alignment=ali)
        )
    out.mkdir(parents=True, exist_ok=True)
    recs, sups = RecordingSet.from_recordings(recordings), SupervisionSet.from_segments(supervisions)
    if as_cuts:
        CutSet.from_manifests(recordings=recs, supervisions=sups).to_file(out / "tone_cuts.jsonl.gz")
    else:
        recs.to_file(out / "tone_recordings.jsonl.gz")
        sups.to_file(out / "tone_supervisions.jsonl.gz")
    return out


def write_textgrids(tone_root: Path, out: Path, stress: bool = True) -> Path:
    """MFA-style ``out/SPEAKER/UTTID.TextGrid`` with a ``words`` and a ``phones`` tier (silence
    left empty as MFA does; ARPAbet stress digits on vowels when ``stress``)."""
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    for uttid, segs in tone_segments(tone_root).items():
        end = segs[-1][1] / 16000

        def label(p: str) -> str:
            if p == "sil":
                return ""
            return p.upper() + ("1" if stress and p in ("aa", "iy") else "")

        phones = [Interval(s / 16000, e / 16000, label(p)) for s, e, p in segs if p != "sil"]
        tg = textgrid.Textgrid()
        tg.addTier(textgrid.IntervalTier("words", [Interval(0, end, "tone")], 0, end))
        tg.addTier(textgrid.IntervalTier("phones", phones, 0, end))
        folder = out / uttid.split("-")[0]
        folder.mkdir(parents=True, exist_ok=True)
        tg.save(str(folder / f"{uttid}.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    return out
