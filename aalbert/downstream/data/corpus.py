"""One place that turns a ``DataConfig`` into train/dev/test utterance lists with labels.

Utterances whose alignment is missing are skipped (a task that needs phone labels cannot use
them) with one warning per split, and counted so results.json can report them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from ..config import DataConfig
from .alignment import find_alignment_files, find_phone_list, read_alignments, read_phone_list
from .librispeech import Utterance, scan_librispeech
from .splits import SPLITS, SplitError, label_fraction, read_split_files, split_per_speaker
from .timit import PHONES_39, scan_timit, timit_splits

log = logging.getLogger(__name__)


@dataclass
class Corpus:
    splits: dict[str, list[Utterance]]
    speakers: list[str]                      # sorted; index = speaker class
    phone_names: list[str] | None = None     # index = phone id
    skipped: dict[str, int] = field(default_factory=dict)  # per split: utterances without alignment
    silence_ids: set[int] = field(default_factory=set)     # phone ids that are silence

    def __post_init__(self):
        self._speaker_ids = {s: i for i, s in enumerate(self.speakers)}

    def speaker_index(self, speaker: str) -> int:
        return self._speaker_ids[speaker]


def _resolve(root: Path, path: str | None) -> Path | None:
    if path is None:
        return None
    p = Path(path).expanduser()
    return p if p.is_absolute() or p.exists() else root / p


def load_corpus(cfg: DataConfig, needs_phones: bool) -> Corpus:
    root = Path(cfg.root).expanduser()
    if cfg.format == "timit":
        parts = scan_timit(root)
        by_id = {u.uttid: u for part in parts.values() for u in part}
        split_ids = timit_splits(parts, cfg.split_seed)
        phone_names = list(PHONES_39)
    else:
        utts = scan_librispeech(root, cfg.subsets)
        by_id = {u.uttid: u for u in utts}
        phone_names = _attach_alignments(cfg, root, by_id, required=needs_phones)
        split_ids = _librispeech_splits(cfg, root, by_id)

    split_ids["train"] = label_fraction(split_ids["train"], cfg.label_fraction, cfg.split_seed)
    splits, skipped = {}, {}
    for split in SPLITS:
        chosen = [by_id[i] for i in split_ids[split]]
        if needs_phones:
            missing = [u.uttid for u in chosen if u.phones is None]
            if missing:
                log.warning("%s: %d utterance(s) have no alignment and are skipped (e.g. %s)",
                            split, len(missing), ", ".join(missing[:3]))
            chosen = [u for u in chosen if u.phones is not None]
            skipped[split] = len(missing)
        if not chosen:
            raise ValueError(f"the {split} split is empty (root {root}); check the split files, "
                             f"subsets and alignments")
        splits[split] = chosen
    speakers = sorted({u.speaker for part in splits.values() for u in part})
    silence = {i for i, name in enumerate(phone_names or []) if name in set(cfg.silence_phones)}
    return Corpus(splits, speakers, phone_names, skipped, silence)


def _attach_alignments(cfg: DataConfig, root: Path, by_id: dict[str, Utterance], required: bool) -> list[str] | None:
    align_path = _resolve(root, cfg.alignment)
    if align_path is None and (root / "alignment").exists():
        align_path = root / "alignment"
    if align_path is None:
        if required:
            raise FileNotFoundError(f"this task needs phone alignments: set data.alignment (no {root / 'alignment'})")
        return None
    phone_list = _resolve(root, cfg.phone_list) or find_phone_list(align_path)
    names = read_phone_list(phone_list)
    alignments = read_alignments(find_alignment_files(align_path), num_phones=len(names))
    for uttid, labels in alignments.items():
        if uttid in by_id:
            by_id[uttid].phones = labels
    return names


def _librispeech_splits(cfg: DataConfig, root: Path, by_id: dict[str, Utterance]) -> dict[str, list[str]]:
    folder = _resolve(root, cfg.splits)
    if folder is None and (root / "splits").is_dir():
        folder = root / "splits"
    if folder is None:
        return split_per_speaker({i: u.speaker for i, u in by_id.items()}, cfg.split_seed)
    split_ids = read_split_files(folder)
    for split, ids in split_ids.items():
        unknown = [i for i in ids if i not in by_id]
        if unknown:
            raise SplitError(f"{folder}: {split} lists {len(unknown)} utterance(s) with no audio under {root} "
                             f"(e.g. {', '.join(unknown[:3])})")
    return split_ids
