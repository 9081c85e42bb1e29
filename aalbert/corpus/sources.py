"""Audio for commands that need no labels (pretraining, attention analysis).

Each entry is a folder, an audio file, a ``.txt`` list of audio files, or a corpus spec
``FORMAT:PATH`` read by that corpus reader (``kaldi:data/train``, ``timit:/data/TIMIT``,
``lhotse:manifests/cuts.jsonl.gz``, ``librispeech:/data/LibriSpeech/train-clean-100``), so
Kaldi segments and Lhotse cuts are used as the utterances they describe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from aalbert.audio import find_audio_files

from .registry import available_formats, read_corpus
from .spec import parse_corpus_spec
from .utterance import Utterance


def utterances_from_sources(entries: Iterable[str | Path]) -> list[Utterance]:
    """Utterances of every entry, in order (plain files sorted by path, corpora by utterance id).

    ``num_samples`` is filled in by corpus readers; plain files leave it None (whole file).
    """
    formats = available_formats()
    out: list[Utterance] = []
    plain: list[str | Path] = []
    for entry in entries:
        spec = parse_corpus_spec(str(entry), formats)
        if spec is None:
            plain.append(entry)
            continue
        out += sorted(read_corpus(spec).utterances, key=lambda u: u.uttid)
    if plain:
        out = [Utterance(p.stem, p, "", source=str(p)) for p in find_audio_files(plain)] + out
    return out


def describe(utt: Utterance) -> str:
    """A plain file's path, or ``UTTID=path@start+samples`` for a corpus utterance (maybe a segment)."""
    if utt.num_samples is None:
        return str(utt.path)
    return f"{utt.uttid}={utt.path}@{utt.start}+{utt.num_samples}"
