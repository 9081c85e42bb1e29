"""Corpora: the reader interface every command uses, and a synthetic mini-LibriSpeech.

Reading a corpus: ``aalbert.corpus.registry.read_corpus(CorpusSpec(format, roots))`` with a
reader found by name (librispeech, timit, kaldi, lhotse, or a plugin of the entry-point group
``aalbert.corpus``); see docs/adding_a_corpus.md. Frame labels follow
:mod:`aalbert.corpus.frames`.

The synthetic corpus has exact phone alignments and is made offline with eSpeak NG:

    from aalbert.corpus import synthesize
    root = synthesize("data/synth40", speakers=40, utterances=25, seed=0)

or ``aalbert corpus synthesize --out DIR --speakers S --utterances U --seed N``.
The layout and file formats are described in :mod:`aalbert.corpus.synth`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import CorpusError
from .spec import CorpusConfig, CorpusSpec

if TYPE_CHECKING:
    from .synth import SynthSpec, synthesize


def __getattr__(name: str) -> Any:
    # the synthesizer (numpy, scipy, eSpeak NG) only when asked for: readers and command parsers need none of it
    if name in ("SynthSpec", "synthesize"):
        from . import synth

        return getattr(synth, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CorpusConfig", "CorpusError", "CorpusSpec", "SynthSpec", "synthesize"]
