"""Synthesizing a whole corpus: plan the utterances, run the workers, write LibriSpeech layout.

Output (``DIR`` = the output folder)::

    DIR/corpus.json                          generation parameters, voices, phone inventory, totals
    DIR/SPEAKERS.TXT                         LibriSpeech format: ID | SEX | SUBSET | MINUTES | NAME
    DIR/<subset>/SPK/CHAP/SPK-CHAP-UTT.flac  16 kHz, 16-bit FLAC
    DIR/<subset>/SPK/CHAP/SPK-CHAP.trans.txt UTTID UPPER CASE WORDS
    DIR/alignment/converted_aligned_phones.txt   s3prl format: UTTID id id ... (one id per 10 ms frame)
    DIR/alignment/phones.txt                 id name (sil = 0, then the 39 ARPAbet phones)
    DIR/splits/{train,dev,test}.txt          utterance ids, a seeded 8:1:1 split per speaker

Frame i is labelled with the phone at sample 160 i (the centre of the feature extractor's
frame i) and an utterance of n samples has n // 160 + 1 frames, exactly as many as the features.
Everything random derives from the seed, so the same parameters give a bit-identical corpus;
the corpus is built in a temporary folder and renamed into place, so an interrupted run leaves
no half corpus behind.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import shutil
import tempfile
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tqdm import tqdm

from aalbert.audio_rate import SAMPLE_RATE

from . import worker
from .errors import CorpusError
from .espeak import library_version, system_data_dir
from .phones import PHONES
from .text import load_words, sample_sentence
from .voices import VoiceParams, build_data_dir, check_variant, sample_voice

FORMAT_VERSION = 1
ESPEAK_RATE = 22050
SPLIT_SHARES = {"train": 0.8, "dev": 0.1, "test": 0.1}


@dataclass(frozen=True)
class SynthSpec:
    """Everything that determines a synthetic corpus; two equal specs give identical corpora
    (not to be confused with aalbert.corpus.spec.CorpusSpec, which names a corpus to read)."""

    speakers: int = 40
    utterances: int = 25  # per speaker
    seed: int = 0
    words_per_utterance: tuple[int, int] = (5, 20)
    subset: str = "synth"

    def __post_init__(self) -> None:
        if self.speakers < 1 or self.utterances < 1:
            raise ValueError(f"need at least one speaker and one utterance, got {self.speakers} x {self.utterances}")
        low, high = self.words_per_utterance
        if not 1 <= low <= high:
            raise ValueError(f"words_per_utterance must be (low, high) with 1 <= low <= high, got {(low, high)}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["words_per_utterance"] = list(self.words_per_utterance)
        return d


def speaker_id(index: int) -> str:
    return str(100 + index)


def chapter_id(index: int) -> str:
    return str(1000 + index)


def synthesize(
    out_dir: str | Path,
    speakers: int = 40,
    utterances: int = 25,
    seed: int = 0,
    workers: int = 2,
    words_per_utterance: tuple[int, int] = (5, 20),
    subset: str = "synth",
    progress: bool = True,
) -> Path:
    """Write a synthetic corpus to ``out_dir`` (or return at once if it is already there).

    A folder holding a complete corpus of the same parameters is reused; a folder holding
    anything else is an error, never overwritten.
    """
    low, high = words_per_utterance  # unpacked: a [low, high] list is accepted too
    spec = SynthSpec(speakers, utterances, seed, (low, high), subset)
    out_dir = Path(out_dir)
    if _is_cached(out_dir, spec):
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.partial-", dir=out_dir.parent))
    try:
        _build(work, spec, workers, progress)
        if out_dir.exists():
            out_dir.rmdir()  # empty (checked by _is_cached)
        os.replace(work, out_dir)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return out_dir


def _is_cached(out_dir: Path, spec: SynthSpec) -> bool:
    if not out_dir.exists():
        return False
    meta_path = out_dir / "corpus.json"
    if not meta_path.is_file():
        if any(out_dir.iterdir()):
            raise CorpusError(
                f"{out_dir} exists and is not a synthetic corpus (no corpus.json): choose an empty or new folder"
            )
        return False
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CorpusError(f"{meta_path} is not valid JSON ({err}): delete {out_dir} to regenerate") from err
    if meta.get("spec") != spec.to_dict() or meta.get("format_version") != FORMAT_VERSION:
        raise CorpusError(
            f"{out_dir} holds a corpus made with other parameters ({meta.get('spec')}); "
            f"asked for {spec.to_dict()}: choose another folder or delete it"
        )
    return True


def _plan(spec: SynthSpec, voices: list[VoiceParams], words: tuple[str, ...], root: Path) -> list[worker.Job]:
    jobs = []
    for s, voice in enumerate(voices):
        spk, chap = speaker_id(s), chapter_id(s)
        folder = root / spec.subset / spk / chap
        folder.mkdir(parents=True)
        for u in range(spec.utterances):
            uttid = f"{spk}-{chap}-{u:04d}"
            rng = random.Random(f"aalbert-utt:{spec.seed}:{s}:{u}")
            text = sample_sentence(words, rng, spec.words_per_utterance)
            jobs.append(
                worker.Job(
                    uttid=uttid,
                    text=text,
                    voice=voice,
                    path=str(folder / f"{uttid}.flac"),
                    noise_seed=zlib.crc32(f"{spec.seed}:{uttid}".encode()),
                    # LibriSpeech utterances start and end with a little silence
                    lead=int(rng.uniform(0.1, 0.35) * ESPEAK_RATE),
                    trail=int(rng.uniform(0.1, 0.35) * ESPEAK_RATE),
                )
            )
    return jobs


def _run_jobs(jobs: list[worker.Job], data_dir: Path, workers: int, progress: bool) -> list[worker.Result]:
    """Each speaker is synthesized in a fresh process, in a fixed order.

    eSpeak carries state from one utterance to the next (pitch flutter phase, generator
    filters), so an utterance's samples depend on what the process spoke before it. A fresh
    process per speaker (``maxtasksperchild=1``) makes every utterance depend on its speaker's
    jobs alone, whatever the number of workers or their timing.
    """
    by_speaker: dict[str, list[worker.Job]] = {}
    for job in jobs:
        by_speaker.setdefault(job.uttid.split("-")[0], []).append(job)
    bar = tqdm(total=len(jobs), desc="synthesizing", unit="utt", disable=not progress)
    results = []
    # spawn: forking a process that holds torch's threads is unsafe
    ctx = multiprocessing.get_context("spawn")
    try:
        with ctx.Pool(max(1, workers), initializer=worker.init, initargs=(str(data_dir),), maxtasksperchild=1) as pool:
            for speaker_results in pool.imap(worker.run_speaker, by_speaker.values()):
                results += speaker_results
                bar.update(len(speaker_results))
    finally:
        bar.close()
    return results


def _build(root: Path, spec: SynthSpec, workers: int, progress: bool) -> None:
    words = load_words()
    voices = [sample_voice(spec.seed, s) for s in range(spec.speakers)]
    with tempfile.TemporaryDirectory(prefix="aalbert-espeak-") as tmp:
        data_dir = build_data_dir(system_data_dir(), Path(tmp) / "espeak-ng-data", voices)
        for voice in voices:
            check_variant(data_dir, voice)
        jobs = _plan(spec, voices, words.words, root)
        results = _run_jobs(jobs, data_dir, workers, progress)
    version = library_version()
    _write_transcripts(root, spec, jobs)
    _write_alignments(root, results)
    durations = _write_speakers(root, spec, voices, results)
    _write_splits(root, spec)
    phone_counts: Counter[str] = Counter()
    for r in results:
        phone_counts.update(r.phone_counts)
    meta = {
        "format_version": FORMAT_VERSION,
        "spec": spec.to_dict(),
        "espeak_version": version,
        "word_list": {"path": words.path, "sha256": words.sha256, "words": len(words.words)},
        "sample_rate": SAMPLE_RATE,
        "frame_convention": "frame i is labelled at sample 160*i; n_frames = n_samples // 160 + 1",
        "phones": list(PHONES),
        "phone_counts": dict(sorted(phone_counts.items())),
        "num_utterances": len(results),
        "num_phone_segments": sum(r.num_segments for r in results),
        "total_hours": round(sum(durations.values()) / 3600, 4),
        "speakers": {speaker_id(s): v.to_dict() for s, v in enumerate(voices)},
    }
    # corpus.json is written last: its presence marks a complete corpus
    (root / "corpus.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _write_transcripts(root: Path, spec: SynthSpec, jobs: list[worker.Job]) -> None:
    by_chapter: dict[Path, list[str]] = {}
    for job in jobs:
        by_chapter.setdefault(Path(job.path).parent, []).append(f"{job.uttid} {job.text.upper()}")
    for folder, lines in by_chapter.items():
        spk, chap = folder.parent.name, folder.name
        (folder / f"{spk}-{chap}.trans.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_alignments(root: Path, results: list[worker.Result]) -> None:
    folder = root / "alignment"
    folder.mkdir()
    lines = [f"{r.uttid} {' '.join(map(str, r.labels))}" for r in results]
    (folder / "converted_aligned_phones.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "phones.txt").write_text("".join(f"{i} {p}\n" for i, p in enumerate(PHONES)), encoding="utf-8")


def _write_speakers(
    root: Path, spec: SynthSpec, voices: list[VoiceParams], results: list[worker.Result]
) -> dict[str, float]:
    seconds: dict[str, float] = {}
    for r in results:
        spk = r.uttid.split("-")[0]
        seconds[spk] = seconds.get(spk, 0.0) + r.num_samples / SAMPLE_RATE
    lines = [
        "; Synthetic speakers generated by aalbert.corpus (eSpeak NG voice variants)",
        "; ID      |SEX| SUBSET           |MINUTES| NAME",
    ]
    for s, voice in enumerate(voices):
        spk = speaker_id(s)
        lines.append(f"{spk:<9}| {voice.sex} | {spec.subset:<17}| {seconds.get(spk, 0.0) / 60:5.2f} | {voice.variant}")
    (root / "SPEAKERS.TXT").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dict(seconds)


def split_utterances(uttids: list[str], seed: int, key: str) -> dict[str, list[str]]:
    """A seeded 8:1:1 split of one speaker's utterances; dev and test get one each from 3 up."""
    order = sorted(uttids)
    random.Random(f"aalbert-split:{seed}:{key}").shuffle(order)
    n = len(order)
    n_dev = max(1, round(n * SPLIT_SHARES["dev"])) if n >= 3 else 0
    n_test = max(1, round(n * SPLIT_SHARES["test"])) if n >= 3 else 0
    return {
        "dev": sorted(order[:n_dev]),
        "test": sorted(order[n_dev : n_dev + n_test]),
        "train": sorted(order[n_dev + n_test :]),
    }


def _write_splits(root: Path, spec: SynthSpec) -> None:
    folder = root / "splits"
    folder.mkdir()
    merged: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    for s in range(spec.speakers):
        spk, chap = speaker_id(s), chapter_id(s)
        ids = [f"{spk}-{chap}-{u:04d}" for u in range(spec.utterances)]
        for split, chosen in split_utterances(ids, spec.seed, spk).items():
            merged[split] += chosen
    for split, ids in merged.items():
        (folder / f"{split}.txt").write_text("".join(i + "\n" for i in ids), encoding="utf-8")
