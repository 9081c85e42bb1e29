"""Downstream data: corpus layouts (LibriSpeech, TIMIT), alignments, splits and label rates."""

from .corpus import Corpus, load_corpus
from .dataset import Batch, UtteranceDataset, collate
from .librispeech import Utterance

__all__ = ["Batch", "Corpus", "Utterance", "UtteranceDataset", "collate", "load_corpus"]
