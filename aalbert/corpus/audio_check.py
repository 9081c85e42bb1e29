"""Every audio file of a corpus decoded once, before the first step, and what decoding showed.

A header says how long a file claims to be; only decoding it says whether the samples are
there. A FLAC cut short, a float WAV holding NaN, a stereo file or a file at another rate
would otherwise be found only when a batch reaches it (at evaluation, after the training).
So the readers decode every file of the corpus up front, in a process pool (:func:`map_files`),
and :mod:`aalbert.corpus.bad_audio` says which files are unusable.

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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import soundfile

FACTS_VERSION = 1
BLOCK = 1 << 16  # samples decoded at a time (4 s): a long recording never sits in memory whole
POOL_FROM = 16  # fewer files than this are decoded in this process (a pool costs more to start)


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
