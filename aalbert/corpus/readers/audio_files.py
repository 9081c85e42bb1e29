"""Plain audio, no corpus layout (``format: files``): folders searched for .flac/.wav files, single
audio files, and ``.txt`` lists of audio files (see aalbert.audio.find_audio_files).

What pretraining reads when given folders of audio. Nothing but the audio
is known: the utterance id is the file name's stem and there is no speaker. A file that cannot
be used (unreadable header, another sample rate, empty, listed but missing) is skipped, not an
error: a warning names each one, and ``CorpusListing.unusable`` lists them (pretraining counts
them). No usable file at all is an error. Files that do not decode cleanly (cut short, NaN
samples, several channels without ``data.channel``) follow ``data.bad_audio``: an error by default.
"""

from __future__ import annotations

from pathlib import Path

from aalbert.audio import find_audio_files
from aalbert.errors import BadInputError

from ..bad_audio import check_utterances, warn_skipped
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

FORMAT = "files"
UNUSABLE = "unusable audio files (unreadable, empty, another sample rate, listed but missing)"


def read(spec: CorpusSpec) -> CorpusListing:
    what = f"the audio files under {', '.join(spec.roots)}"
    # a file these folders hold that is not audio at all (no header, another rate, empty,
    # listed but missing) is passed over, as it always was; one that does not decode cleanly
    # follows data.bad_audio like every other reader's
    unusable = Problems(what, skip_audio=True)
    problems = Problems(what, skip_audio=spec.bad_audio == "skip")
    # header lengths cached per set of roots: a large folder is not re-read at every start
    cache = AudioInfoCache(FORMAT, [str(r) for r in spec.roots], spec.scan_cache, spec.audio_check_workers)
    utterances: list[Utterance] = []
    found = find_audio_files(spec.roots)
    cache.prefetch(found)  # headers and decoding of new files, in parallel
    for path in found:
        if not path.is_file():
            unusable.add_audio(path, "audio file not found")
            continue
        frames = cache.usable_samples(path, unusable)
        if frames is not None:
            utterances.append(Utterance(path.stem, path, "", num_samples=frames, source=str(path)))
    utterances = check_utterances(utterances, cache, spec.channel, problems)
    cache.save()
    problems.raise_if_any()
    skipped = unusable.skipped_audio + problems.skipped_audio
    warn_skipped(skipped, what)
    if not utterances:
        raise BadInputError(
            f"no usable audio found under {', '.join(spec.roots)} ({len(skipped)} file(s) "
            f"skipped{': ' + skipped[0] if skipped else ''})"
        )
    return CorpusListing(
        FORMAT,
        [Path(r) for r in spec.roots],
        utterances,
        skipped={UNUSABLE: len(skipped)},
        unusable=skipped,
        unusable_ids=unusable.skipped_ids | problems.skipped_ids,
        audio_checked=True,
    )
