"""Downstream data: a corpus (any reader) with labels and splits, as batches for a task."""

from aalbert.corpus.utterance import Utterance

from .corpus import Corpus, TaskData, load_corpus
from .dataset import Batch, UtteranceDataset, collate

__all__ = ["Batch", "Corpus", "TaskData", "Utterance", "UtteranceDataset", "collate", "load_corpus"]
