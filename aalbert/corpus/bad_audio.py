"""Which audio files of a corpus cannot be used, from what decoding them showed
(:mod:`aalbert.corpus.audio_check`): a FLAC cut short, a float WAV holding NaN, a stereo file or
a file at another rate. The readers report every such file at once with the corpus's other
problems (:func:`check_utterances`); with ``data.bad_audio: skip`` the files are left out
instead, each named in a warning and listed in ``CorpusListing.unusable``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from aalbert.audio import SAMPLE_RATE, Channel, channel_problem

from .problems import Problems
from .scan_cache import AudioInfoCache
from .spec import CorpusSpec
from .utterance import CorpusListing, Utterance

WARNED = 20  # skipped files named one warning each; the rest in one line with their count


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


def checked_listing(
    format: str,
    roots: list[Path],
    utterances: list[Utterance],
    cache: AudioInfoCache,
    spec: CorpusSpec,
    problems: Problems,
    what: str,
    **listing: Any,
) -> CorpusListing:
    """How a reader that decodes its own files ends: ``utterances`` checked (:func:`check_utterances`),
    the scan cache saved, every problem in one error (or, with ``data.bad_audio: skip``, the bad files
    left out with a warning each), and the listing of what is left (``listing``: its other fields)."""
    kept = check_utterances(utterances, cache, spec.channel, problems)
    cache.save()
    problems.raise_if_any()
    warn_skipped(problems.skipped_audio, what)
    return CorpusListing(
        format,
        roots,
        kept,
        unusable=problems.skipped_audio,
        unusable_ids=problems.skipped_ids,
        audio_checked=True,
        **listing,
    )


def check_listing(listing: CorpusListing, spec: CorpusSpec) -> CorpusListing:
    """``listing`` of a reader that did not decode its files itself (a plugin's), checked here:
    every bad file in one error, or (``data.bad_audio: skip``) left out and listed."""
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
