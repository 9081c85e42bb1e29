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

from .errors import CorpusError
from .spec import CorpusConfig, CorpusSpec
from .synth import SynthSpec, synthesize

__all__ = ["CorpusConfig", "CorpusError", "CorpusSpec", "SynthSpec", "synthesize"]
