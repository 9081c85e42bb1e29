"""What every corpus reader produces: utterances (audio file or a segment of one, speaker,
optional labels) and the corpus listing around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from aalbert.audio import Channel, load_audio


@dataclass
class Utterance:
    uttid: str
    path: Path  # the audio file (a whole recording for segments)
    speaker: str
    start: int = 0  # first sample inside ``path`` (Kaldi segments, Lhotse cuts)
    num_samples: int | None = None  # samples from ``start`` (readers fill it in); None = to the end of the file
    phones: list[int] | None = field(default=None, repr=False)  # frame labels (aalbert.corpus.frames)
    phone_sequence: list[int] | None = field(default=None, repr=False)  # phone ids in order (CTC targets)
    words: list[str] | None = field(default=None, repr=False)  # word transcript, if the corpus has one
    # phones as timed segments (start, end, name) in samples from ``start``, before they are
    # mapped to ids and frames (TIMIT .PHN, Lhotse alignments)
    phone_segments: list[tuple[int, int, str]] | None = field(default=None, repr=False)
    source: str = ""  # "file:line" the utterance was listed at, for error messages
    # per-utterance metadata a reader found (e.g. {"emotion": "happy"}); tasks read it as utterance.FIELD
    info: dict[str, str] = field(default_factory=dict, repr=False)
    # which wave of a multi-channel file (data.channel: "mean" or an index; None: the file must be mono)
    channel: Channel = field(default=None, repr=False)
    # label values attached for a task beyond phones, by label name (e.g. "frame.vad": an id per 10 ms frame)
    labels: dict[str, Any] = field(default_factory=dict, repr=False)

    def measured_num_samples(self) -> int:
        """``num_samples``, which every corpus reader measures; only a plain file listed unread
        (``aalbert.corpus.sources.utterances_from_sources``) lacks it."""
        if self.num_samples is None:
            raise ValueError(f"utterance {self.uttid} ({self.path}): its length was never read")
        return self.num_samples


def load_utterance_audio(utt: Utterance) -> torch.Tensor:
    """The utterance's wave (mono float32, 16 kHz); only the segment's samples are decoded."""
    return load_audio(utt.path, start=utt.start, frames=utt.num_samples, channel=utt.channel)


@dataclass
class CorpusListing:
    """A corpus as a reader found it, before labels are attached and splits are made."""

    format: str
    roots: list[Path]
    utterances: list[Utterance]
    speaker_info: dict[str, dict[str, str]] = field(default_factory=dict)  # e.g. {"19": {"gender": "f"}}
    phone_names: list[str] | None = None  # when the reader itself brings phone labels (TIMIT)
    silence_phones: set[str] = field(default_factory=set)
    # the corpus's own division, uttid -> "train" | "dev" | "test" (TIMIT's TRAIN/TEST folders)
    partition: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # reason -> utterances left out (logged)
    # "path: problem" of each audio file left out as unusable (with a warning) rather than refusing
    # the corpus: by the files reader (plain audio folders), and by every reader with data.bad_audio: skip
    unusable: list[str] = field(default_factory=list)
    unusable_ids: set[str] = field(default_factory=set)  # the utterances those files held
    # every audio file decoded by the reader (aalbert.corpus.audio_check); read_corpus decodes
    # the files of a reader that did not (a plugin's)
    audio_checked: bool = False
    # (per, field) -> the file a metadata field came from ("utterance"/"speaker"), for messages on its values
    metadata_sources: dict[tuple[str, str], str] = field(default_factory=dict)
    # verification trials the corpus defines: (1 same speaker / 0 not, uttid, uttid) (VoxCeleb1's veri_test2.txt)
    trials: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return self.roots[0]
