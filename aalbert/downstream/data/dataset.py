"""A torch Dataset over ``Utterance`` records: loads each wave (or segment) on demand, with its labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import Dataset

from aalbert.corpus.utterance import Utterance, load_utterance_audio


@dataclass
class Batch:
    uttids: list[str]
    wavs: list[torch.Tensor]
    speakers: torch.Tensor  # (B,) speaker class ids
    phones: list[list[int] | None]  # 10 ms frame labels per utterance
    phone_sequences: list[list[int] | None] = field(default_factory=list)  # CTC targets per utterance
    # every label the task declared, by name (aalbert.downstream.data.label_values): class ids
    # LongTensor (B,), numbers FloatTensor (B,), sequences and frame labels a LongTensor per utterance
    labels: dict[str, Any] = field(default_factory=dict)


class UtteranceDataset(Dataset):
    """``with_audio=False`` leaves ``wavs`` empty: for batches whose features are already cached.
    ``corpus``: a loaded corpus (its speaker classes and the task's labels: ``Corpus.label_values``)."""

    def __init__(self, utterances: list[Utterance], corpus, with_audio: bool = True):
        self.utterances = utterances
        self.corpus = corpus
        self.with_audio = with_audio

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int):
        utt = self.utterances[i]
        # load_audio raises AudioError naming the file when it is corrupt
        wave = load_utterance_audio(utt) if self.with_audio else None
        labels = self.corpus.label_values(utt)
        return utt.uttid, wave, self.corpus.speaker_index(utt.speaker), utt.phones, utt.phone_sequence, labels


def _as_tensors(values: list[Any]) -> Any:
    """One label's values over a batch: ids or numbers -> a (B,) tensor, lists -> a LongTensor each."""
    if isinstance(values[0], list):
        return [torch.tensor(v, dtype=torch.long) for v in values]
    if isinstance(values[0], float):
        return torch.tensor(values, dtype=torch.float32)
    return torch.tensor(values, dtype=torch.long)


def collate(items) -> Batch:
    uttids, wavs, speakers, phones, sequences, labels = zip(*items)
    names = labels[0].keys() if labels else ()
    return Batch(
        list(uttids),
        [w for w in wavs if w is not None],
        torch.tensor(speakers, dtype=torch.long),
        list(phones),
        list(sequences),
        {name: _as_tensors([values[name] for values in labels]) for name in names},
    )
