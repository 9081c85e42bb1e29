"""A synthetic mini-LibriSpeech with exact phone alignments, made offline with eSpeak NG.

    from aalbert.corpus import synthesize
    root = synthesize("data/synth40", speakers=40, utterances=25, seed=0)

or ``python -m aalbert.corpus synth --out DIR --speakers S --utterances U --seed N``.
The layout and file formats are described in :mod:`aalbert.corpus.synth`.
"""

from .errors import CorpusError
from .synth import CorpusSpec, synthesize

__all__ = ["CorpusError", "CorpusSpec", "synthesize"]
