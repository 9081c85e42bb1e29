"""Corpora: the reader interface every command uses (and, in ``synthetic/``, a synthetic mini-LibriSpeech).

Reading a corpus: ``aalbert.corpus.registry.read_corpus(CorpusSpec(format, roots))`` with a
reader found by name (librispeech, timit, kaldi, lhotse, or a plugin of the entry-point group
``aalbert.corpus``); see docs/adding_a_corpus.md. Frame labels follow
:mod:`aalbert.corpus.frames`.

The synthetic corpus has exact phone alignments and is made offline with eSpeak NG
(:mod:`aalbert.corpus.synthetic`, which describes the layout and file formats):

    from aalbert.corpus import synthesize
    root = synthesize("data/synth40", speakers=40, utterances=25, seed=0)

or ``aalbert corpus synthesize --out DIR --speakers S --utterances U --seed N``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .spec import CorpusConfig, CorpusSpec

if TYPE_CHECKING:
    from .synthetic import CorpusError, SynthSpec, synthesize

SYNTHETIC = ("CorpusError", "SynthSpec", "synthesize")


def __getattr__(name: str) -> Any:
    # the synthesizer (numpy, scipy, eSpeak NG) only when asked for: readers and command parsers need none of it
    if name in SYNTHETIC:
        from . import synthetic

        return getattr(synthetic, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CorpusConfig", "CorpusError", "CorpusSpec", "SynthSpec", "synthesize"]
