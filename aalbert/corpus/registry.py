"""Corpus readers found by name (``data.format``): the built-in ones, then plugins.

A reader is a function ``read(spec: CorpusSpec) -> CorpusListing``. Third-party packages add
readers through the entry-point group ``aalbert.corpus`` (``name = "package.module:read"``);
see docs/adding_a_corpus.md.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from importlib import metadata

from aalbert.errors import AalbertError, MissingFileError

from .bad_audio import check_listing
from .problems import log_skips
from .spec import CorpusSpec
from .utterance import CorpusListing

log = logging.getLogger(__name__)
ENTRY_POINT_GROUP = "aalbert.corpus"
Reader = Callable[[CorpusSpec], CorpusListing]

# modules are imported only when their reader is used (lhotse is an optional extra)
BUILTIN_READERS = {
    "librispeech": "aalbert.corpus.readers.librispeech:read",
    "timit": "aalbert.corpus.readers.timit:read",
    "kaldi": "aalbert.corpus.readers.kaldi:read",
    "lhotse": "aalbert.corpus.readers.lhotse_manifests:read",
    "files": "aalbert.corpus.readers.audio_files:read",
    "speech_commands": "aalbert.corpus.readers.speech_commands:read",
    "fluent_commands": "aalbert.corpus.readers.fluent_commands:read",
    "voxceleb1": "aalbert.corpus.readers.voxceleb1:read",
}


class UnknownFormatError(AalbertError):
    pass


def plugin_readers() -> dict[str, metadata.EntryPoint]:
    return {ep.name: ep for ep in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_formats() -> list[str]:
    return sorted(set(BUILTIN_READERS) | set(plugin_readers()))


def get_reader(name: str) -> Reader:
    if name in BUILTIN_READERS:
        module, func = BUILTIN_READERS[name].split(":")
        return getattr(importlib.import_module(module), func)
    plugins = plugin_readers()
    if name in plugins:
        reader = plugins[name].load()
        if not callable(reader):
            raise TypeError(f"corpus reader plugin {name} ({plugins[name].value}) is not callable")
        return reader
    raise UnknownFormatError(f"unknown corpus format {name!r}; known formats: {', '.join(available_formats())}")


def read_corpus(spec: CorpusSpec) -> CorpusListing:
    """Read (and validate) the corpus ``spec`` names; skips are logged with their counts."""
    if not spec.roots:
        raise MissingFileError(f"no corpus root given for format {spec.format!r}")
    listing = get_reader(spec.format)(spec)
    if not listing.audio_checked:  # the built-in readers decode every file themselves
        listing = check_listing(listing, spec)
    if not listing.utterances:
        raise MissingFileError(f"no utterances found in the {spec.format} corpus at {', '.join(spec.roots)}")
    log_skips(f"{spec.format} corpus {', '.join(spec.roots)}", listing.skipped)
    return listing
