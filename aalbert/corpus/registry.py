"""Corpus readers found by name (``data.format``): the built-in ones, then plugins.

A reader is a function ``read(spec: CorpusSpec) -> CorpusListing``. Third-party packages add
readers through the entry-point group ``aalbert.corpus`` (``name = "package.module:read"``);
see docs/adding_a_corpus.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import sys
from collections.abc import Callable
from importlib import metadata

from aalbert.config import ConfigError, Sources, from_dict
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


def reader_options_class(name: str) -> type | None:
    """The dataclass of the options reader ``name`` takes (``data.options``): its function's attribute
    ``Options``, else its module's; None when it takes none."""
    reader = get_reader(name)
    found = getattr(reader, "Options", None) or getattr(sys.modules.get(reader.__module__), "Options", None)
    return found if isinstance(found, type) and dataclasses.is_dataclass(found) else None


def check_reader_options(name: str, options: dict, origins: Sources | None = None) -> None:
    """``data.options`` checked against reader ``name``'s ``Options`` before anything is read: an
    unknown key or a wrong type is a ConfigError naming the reader and where the key was given."""
    if not options:
        return
    options_class = reader_options_class(name)
    if options_class is None:
        keys = [f"data.options.{key}" for key in options]
        where = origins.sources(keys) if origins is not None else "data.options"
        raise ConfigError(f"{where}: the {name} reader takes no options, got {', '.join(sorted(options))}")
    try:
        from_dict(options_class, options, where="data.options", key="data.options", origins=origins)
    except ConfigError as err:
        raise ConfigError(f"the {name} reader's options: {err}") from err


def read_corpus(spec: CorpusSpec) -> CorpusListing:
    """Read (and validate) the corpus ``spec`` names; skips are logged with their counts."""
    if not spec.roots:
        raise MissingFileError(f"no corpus root given for format {spec.format!r}")
    check_reader_options(spec.format, spec.options or {})
    listing = get_reader(spec.format)(spec)
    if not listing.audio_checked:  # the built-in readers decode every file themselves
        listing = check_listing(listing, spec)
    if not listing.utterances:
        raise MissingFileError(f"no utterances found in the {spec.format} corpus at {', '.join(spec.roots)}")
    log_skips(f"{spec.format} corpus {', '.join(spec.roots)}", listing.skipped)
    return listing
