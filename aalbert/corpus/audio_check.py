"""Every audio file of a corpus decoded once, before the first step, and what decoding showed.

A header says how long a file claims to be; only decoding it says whether the samples are
there. A FLAC cut short, a float WAV holding NaN, a stereo file or a file at another rate
would otherwise be found only when a batch reaches it (at evaluation, after the training).
So the readers decode every file of the corpus up front (:func:`check_utterances`), in a
process pool, and report every problem at once with the corpus's other problems; with
``data.bad_audio: skip`` the files are left out instead, each named in a warning and listed
in ``CorpusListing.unusable``.

What a file's decoding showed (:func:`decode_file`: samples the header declares and samples
decoded, rate, channels, where the first NaN/Inf sample of each channel is, a decoder error)
does not depend on the options, so it is kept in the corpus scan manifest
(:mod:`aalbert.corpus.scan_cache`) keyed by the file's identity
(:func:`aalbert.audio.audio_file_key`): a second run decodes nothing.
"""

from __future__ import annotations

import multiprocessing
import os
import struct
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from aalbert.audio import SAMPLE_RATE, Channel, channel_problem

if TYPE_CHECKING:
    from .problems import Problems
    from .scan_cache import AudioInfoCache
    from .spec import CorpusSpec
    from .utterance import CorpusListing, Utterance

FACTS_VERSION = 1
BLOCK = 1 << 16  # samples decoded at a time (4 s): a long recording never sits in memory whole
POOL_FROM = 16  # fewer files than this are decoded in this process (a pool costs more to start)
WARNED = 20  # skipped files named one warning each; the rest in one line with their count


def default_workers() -> int:
    """``data.audio_check_workers`` unset: min(4, CPUs this process may use)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(4, cpus))


def _wav_declared_frames(path: str, block_align: int) -> int | None:
    """Samples the RIFF ``data`` chunk of a WAV file declares (libsndfile reports what is
    there instead, so a WAV cut short looks whole to it); None when it cannot tell."""
    if block_align <= 0:
        return None
    with open(path, "rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
            return None
        order = "<" if head[:4] == b"RIFF" else ">"
        while True:
            chunk = f.read(8)
            if len(chunk) < 8:
                return None
            size = struct.unpack(order + "I", chunk[4:])[0]
            if chunk[:4] == b"data":
                # 0 and 0xFFFFFFFF: a stream written without its length (or RF64): no claim made
                return None if size in (0, 0xFFFFFFFF) else size // block_align
            f.seek(size + (size & 1), os.SEEK_CUR)


def decode_file(path: str) -> dict:
    """What decoding the whole of ``path`` shows (run in a worker process; plain data only).

    ``error``: why it could not be opened or decoding stopped; ``declared``: samples the header
    promises; ``decoded``: samples actually decoded; ``nonfinite``: per channel, the first sample
    that is NaN or infinite (None if none).
    """
    facts: dict = {"version": FACTS_VERSION, "error": None, "rate": 0, "channels": 0, "declared": 0, "decoded": 0}
    try:
        sound = soundfile.SoundFile(path)
    except (RuntimeError, soundfile.LibsndfileError, OSError) as err:
        facts["error"] = f"cannot read audio ({err})"
        return facts
    with sound:
        facts.update(rate=sound.samplerate, channels=sound.channels, declared=sound.frames)
        if sound.format == "WAV":
            declared = _wav_declared_frames(path, sound.channels * _sample_bytes(sound.subtype))
            if declared is not None:
                facts["declared"] = max(declared, sound.frames)
        nonfinite: list[int | None] = [None] * sound.channels
        decoded = 0
        try:
            while True:
                block = sound.read(BLOCK, dtype="float32", always_2d=True)
                if not len(block):
                    break
                bad = ~np.isfinite(block)
                if bad.any():
                    for channel in np.flatnonzero(bad.any(axis=0)):
                        if nonfinite[channel] is None:
                            nonfinite[channel] = decoded + int(np.argmax(bad[:, channel]))
                decoded += len(block)
        except (RuntimeError, soundfile.LibsndfileError, OSError) as err:
            until = min(decoded + BLOCK, sound.frames) if sound.frames > decoded else decoded + BLOCK
            facts["error"] = f"decoding failed within samples {decoded}-{until} ({err})"
        facts.update(decoded=decoded, nonfinite=nonfinite)
    return facts


def _sample_bytes(subtype: str) -> int:
    """Bytes per sample of a WAV subtype (0: unknown, so no claim is checked)."""
    sizes = {"PCM_U8": 1, "PCM_S8": 1, "ULAW": 1, "ALAW": 1, "PCM_16": 2, "PCM_24": 3, "PCM_32": 4, "FLOAT": 4}
    return {**sizes, "DOUBLE": 8}.get(subtype, 0)


def map_files(work: Callable[[str], dict], paths: list[str], workers: int, done: Callable[[str, dict], None]) -> None:
    """``done(path, work(path))`` for every path: ``work`` runs in ``workers`` processes (in this
    one for a few files), ``done`` here, in order."""
    if workers <= 1 or len(paths) < POOL_FROM:
        for path in paths:
            done(path, work(path))
        return
    # fork: workers start at once and import nothing again; they only read files (no torch, no CUDA)
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    with ProcessPoolExecutor(max_workers=min(workers, len(paths)), mp_context=context) as pool:
        chunksize = max(1, min(64, len(paths) // (8 * workers)))
        for path, result in zip(paths, pool.map(work, paths, chunksize=chunksize)):
            done(path, result)


def file_problem(facts: dict, channel: Channel) -> str | None:
    """What makes the decoded file unusable with ``data.channel`` = ``channel``, or None."""
    declared, decoded = facts["declared"], facts["decoded"]
    if facts["error"] is not None and facts["rate"] == 0:
        return facts["error"]  # could not be opened at all
    if facts["rate"] != SAMPLE_RATE:
        return f"sample rate is {facts['rate']} Hz, expected {SAMPLE_RATE} Hz (resample it first)"
    if facts["error"] is not None:
        return f"truncated or corrupt: {facts['error']}; the header declares {declared} samples"
    if decoded < declared:
        return f"truncated: {decoded} samples decoded, the header declares {declared}"
    if decoded == 0:
        return "audio file is empty (0 samples)"
    problem = channel_problem(facts["channels"], channel)
    if problem is not None:
        return problem
    used = range(facts["channels"]) if channel in (None, "mean") else [channel]
    first = [facts["nonfinite"][c] for c in used if facts["nonfinite"][c] is not None]
    if first:
        at = min(first)
        return f"audio holds NaN or infinite samples (the first at sample {at}, {at / SAMPLE_RATE:.2f} s)"
    return None


def segment_problem(utt: Utterance, decoded: int) -> str | None:
    """An utterance that needs samples past the decoded end of its file (a manifest or segments
    line longer than the audio), or None."""
    end = utt.start + utt.measured_num_samples()
    if end > decoded:
        return f"utterance {utt.uttid} needs samples {utt.start}-{end}, the audio decodes to {decoded} samples"
    return None


def check_utterances(
    utterances: list[Utterance], cache: AudioInfoCache, channel: Channel, problems: Problems
) -> list[Utterance]:
    """The utterances whose audio decodes cleanly; every other file goes to ``problems``
    (:meth:`Problems.add_audio`: an error, or a file left out with ``data.bad_audio: skip``).

    ``cache`` decodes the files not decoded before (:meth:`AudioInfoCache.decoded`). Each
    utterance is given ``channel``, so loading it later reads the wave that was checked.
    """
    facts = cache.decoded(dict.fromkeys(str(u.path) for u in utterances))
    bad: dict[str, str] = {}
    for path, fact in facts.items():
        problem = file_problem(fact, channel)
        if problem is not None:
            bad[path] = problem
    kept: list[Utterance] = []
    ids_of_bad: dict[str, list[str]] = {p: [] for p in bad}
    for utt in utterances:
        utt.channel = channel
        path = str(utt.path)
        if path not in bad:
            problem = segment_problem(utt, facts[path]["decoded"])
            if problem is None:
                kept.append(utt)
                continue
            problems.add_audio(utt.source or path, problem, uttids=[utt.uttid])
            continue
        ids_of_bad[path].append(utt.uttid)
    for path, problem in bad.items():
        problems.add_audio(path, problem, uttids=ids_of_bad[path])
    return kept


def check_listing(listing: CorpusListing, spec: CorpusSpec) -> CorpusListing:
    """``listing`` of a reader that did not decode its files itself (a plugin's), checked here:
    every bad file in one error, or (``data.bad_audio: skip``) left out and listed."""
    from .problems import Problems
    from .scan_cache import AudioInfoCache  # late: the scan cache decodes with this module

    what = f"the {spec.format} corpus {', '.join(spec.roots)}"
    problems = Problems(what, spec.bad_audio == "skip")
    cache = AudioInfoCache(spec.format, spec.roots, spec.scan_cache, spec.audio_check_workers)
    listing.utterances = check_utterances(listing.utterances, cache, spec.channel, problems)
    cache.save()
    problems.raise_if_any()
    warn_skipped(problems.skipped_audio, what)
    listing.unusable += problems.skipped_audio
    listing.unusable_ids |= problems.skipped_ids
    listing.audio_checked = True
    return listing


def warn_skipped(skipped: list[str], what: str) -> None:
    """Files left out are never silent: one warning per file (the first ``WARNED``), then a count."""
    for item in skipped[:WARNED]:
        warnings.warn(f"skipping {item}", stacklevel=3)
    if len(skipped) > WARNED:
        warnings.warn(f"skipping {len(skipped) - WARNED} more unusable audio file(s) of {what}", stacklevel=3)
