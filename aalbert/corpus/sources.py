"""Audio for commands that need no labels (pretraining, attention analysis).

Each entry is a folder, an audio file, a ``.txt`` list of audio files, or a corpus spec
``FORMAT:PATH`` read by that corpus reader (``kaldi:data/train``, ``timit:/data/TIMIT``,
``lhotse:manifests/cuts.jsonl.gz``, ``librispeech:/data/LibriSpeech/train-clean-100``), so
Kaldi segments and Lhotse cuts are used as the utterances they describe. Every entry is read
through the corpus registry (:func:`source_specs` turns the entries into the specs to read);
plain entries with the ``files`` reader unless the options name another format.

The order is part of the contract (pretraining's batches and crops follow it): the corpus specs
in the order given, each corpus by utterance id, then the plain entries' files together, sorted
by path (:func:`aalbert.audio.find_audio_files`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from aalbert.audio import find_audio_files

from .readers.audio_files import FORMAT as FILES
from .registry import available_formats, read_corpus
from .spec import CorpusConfig, CorpusSpec, parse_corpus_spec
from .utterance import CorpusListing, Utterance


def source_specs(entries: Iterable[str | Path], options: CorpusConfig | None = None) -> list[CorpusSpec]:
    """One spec per ``FORMAT:PATH`` entry, in order, then one for all the other entries together.

    ``options``: the reader options of every spec, and the format of the plain entries
    (default: plain audio files, no reader options).
    """
    options = options if options is not None else CorpusConfig(FILES)
    formats = available_formats()
    specs, plain = [], []
    for entry in entries:
        parsed = parse_corpus_spec(str(entry), formats)
        if parsed is None:
            plain.append(str(entry))
        else:
            specs.append(options.spec(parsed.roots, parsed.format))
    return specs + ([options.spec(plain)] if plain else [])


def read_source(spec: CorpusSpec) -> CorpusListing:
    """The corpus ``spec`` names, its utterances in source order (see the module's docstring)."""
    listing = read_corpus(spec)
    if spec.format != FILES:
        # a corpus reader's own order is not guaranteed (manifests, wav.scp): the ids are
        listing.utterances = sorted(listing.utterances, key=lambda u: u.uttid)
    return listing


def utterances_from_sources(entries: Iterable[str | Path]) -> list[Utterance]:
    """Utterances of every entry, in source order, for a look at a few of them (attention maps).

    Plain files are listed without reading their headers (``num_samples`` None: the whole file),
    so taking the first few of a large folder is quick.
    """
    out: list[Utterance] = []
    for spec in source_specs(entries):
        if spec.format == FILES:
            out += [Utterance(p.stem, p, "", source=str(p)) for p in find_audio_files(spec.roots)]
        else:
            out += read_source(spec).utterances
    return out


def describe(utt: Utterance) -> str:
    """A plain file's path, or ``UTTID=path@start+samples`` for a corpus utterance (maybe a segment)."""
    if utt.num_samples is None:
        return str(utt.path)
    return f"{utt.uttid}={utt.path}@{utt.start}+{utt.num_samples}"
