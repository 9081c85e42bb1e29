"""A torch Dataset over ``Utterance`` records: loads each wave (or segment) on demand."""

from __future__ import annotations

from dataclasses import dataclass, field

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


class UtteranceDataset(Dataset):
    """``with_audio=False`` leaves ``wavs`` empty: for batches whose features are already cached."""

    def __init__(self, utterances: list[Utterance], speaker_index, with_audio: bool = True):
        self.utterances = utterances
        self.speaker_index = speaker_index
        self.with_audio = with_audio

    def __len__(self) -> int:
        return len(self.utterances)

    def __getitem__(self, i: int):
        utt = self.utterances[i]
        # load_audio raises AudioError naming the file when it is corrupt
        wave = load_utterance_audio(utt) if self.with_audio else None
        return utt.uttid, wave, self.speaker_index(utt.speaker), utt.phones, utt.phone_sequence


def collate(items) -> Batch:
    uttids, wavs, speakers, phones, sequences = zip(*items)
    return Batch(
        list(uttids),
        [w for w in wavs if w is not None],
        torch.tensor(speakers, dtype=torch.long),
        list(phones),
        list(sequences),
    )
