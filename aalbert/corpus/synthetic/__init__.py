"""The synthetic mini-LibriSpeech: speech with exact phone alignments, made offline with eSpeak NG.

    from aalbert.corpus.synthetic import synthesize     # also: from aalbert.corpus import synthesize
    root = synthesize("data/synth40", speakers=40, utterances=25, seed=0)

or ``aalbert corpus synthesize --out DIR --speakers S --utterances U --seed N``. The corpus is read
back like any LibriSpeech folder (``aalbert.corpus.readers.librispeech``); nothing here is needed to
read it. The layout and file formats: :mod:`.synth` (the whole corpus); one utterance in a worker
process: :mod:`.worker` (eSpeak NG through ctypes: :mod:`.espeak`; speakers: :mod:`.voices` and
:mod:`.channel`; sentences: :mod:`.text`; phone segments and frame labels: :mod:`.align` and
:mod:`.phones`).
"""

from __future__ import annotations

from .errors import CorpusError
from .synth import SynthSpec, synthesize

__all__ = ["CorpusError", "SynthSpec", "synthesize"]
