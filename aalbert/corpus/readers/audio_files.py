"""Plain audio, no corpus layout (``format: files``): folders searched for .flac/.wav files, single
audio files, and ``.txt`` lists of audio files (see aalbert.audio.find_audio_files).

What pretraining reads when given folders of audio. Nothing but the audio
is known: the utterance id is the file name's stem and there is no speaker. A file that cannot
be used (unreadable header, another sample rate, empty, listed but missing) is skipped, not an
error: a warning names each one, and ``CorpusListing.unusable`` lists them (pretraining counts
them). No usable file at all is an error.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from aalbert.audio import find_audio_files
from aalbert.errors import BadInputError

from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

FORMAT = "files"
UNUSABLE = "unusable audio files (unreadable, empty, another sample rate, listed but missing)"


def read(spec: CorpusSpec) -> CorpusListing:
    unusable = Problems(f"the audio files under {', '.join(spec.roots)}")
    # header lengths cached per set of roots: a large folder is not re-read at every start
    cache = AudioInfoCache(FORMAT, [str(r) for r in spec.roots], spec.scan_cache)
    utterances: list[Utterance] = []
    for path in find_audio_files(spec.roots):
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            unusable.add(path, "audio file not found")
            continue
        frames = cache.usable_samples(path, stat, unusable)
        if frames is not None:
            utterances.append(Utterance(path.stem, path, "", num_samples=frames, source=str(path)))
    cache.save()
    for problem in unusable.items:
        warnings.warn(f"skipping {problem}", stacklevel=3)
    if not utterances:
        raise BadInputError(
            f"no usable audio found under {', '.join(spec.roots)} ({len(unusable.items)} file(s) "
            f"skipped{': ' + unusable.items[0] if unusable else ''})"
        )
    return CorpusListing(
        FORMAT,
        [Path(r) for r in spec.roots],
        utterances,
        skipped={UNUSABLE: len(unusable.items)},
        unusable=list(unusable.items),
    )
