"""Which split a run uses: split lists (``data.splits`` or ``ROOT/splits``), the corpus's own
partition (a reader's train/dev/test: LibriSpeech subsets, Speech Commands' lists, VoxCeleb1's
iden_split, TIMIT's TEST folder), or a seeded split by the task's policy; the log says which, with sizes.
"""

from __future__ import annotations

import logging
from pathlib import Path

from aalbert.corpus.utterance import CorpusListing, Utterance

from ..config import DataConfig
from .attach import resolve
from .splits import SPLITS, SplitError, read_split_files, split_disjoint_speakers, split_per_speaker

log = logging.getLogger(__name__)


def split_lists_folder(cfg: DataConfig, listing: CorpusListing) -> Path | None:
    """The split lists a run reads when its task allows them: ``data.splits``, else ``ROOT/splits``."""
    explicit = resolve(listing.root, cfg.splits)
    if explicit is None and (listing.root / "splits").is_dir():
        return listing.root / "splits"
    return explicit


def _sizes(split_ids: dict[str, list[str]], speaker_of: dict[str, str]) -> str:
    return ", ".join(
        f"{split} {len(split_ids[split])} utterances / {len({speaker_of[u] for u in split_ids[split]})} speakers"
        for split in SPLITS
    )


def full_partition(listing: CorpusListing, by_id: dict[str, Utterance]) -> dict[str, list[str]] | None:
    """The corpus's own train/dev/test when it puts every utterance in one and no split is empty."""
    if not listing.partition or any(u not in listing.partition for u in by_id):
        return None
    split_ids: dict[str, list[str]] = {s: [] for s in SPLITS}
    for uttid in by_id:
        split_ids[listing.partition[uttid]].append(uttid)
    return {s: sorted(ids) for s, ids in split_ids.items()} if all(split_ids.values()) else None


def choose_splits(cfg: DataConfig, listing: CorpusListing, needs, by_id: dict[str, Utterance]) -> dict[str, list[str]]:
    """Split lists when given (``data.splits`` or ``ROOT/splits``), else the corpus's own full
    partition (unless ``data.split_policy`` asks for a seeded split), else the task's policy.

    A task that requires speaker-disjoint splits refuses given lists (and a ``data.split_policy``)
    that share speakers; lists merely found in ``ROOT/splits`` (or a partition) are then passed over, with a warning.
    """
    explicit = resolve(listing.root, cfg.splits)
    folder = split_lists_folder(cfg, listing)
    speaker_of = {u: utt.speaker for u, utt in by_id.items()}
    if folder is not None:
        split_ids = read_split_files(folder, by_id)
        if listing.unusable_ids:  # data.bad_audio: skip left their audio out
            split_ids = {split: [i for i in ids if i not in listing.unusable_ids] for split, ids in split_ids.items()}
        for split, ids in split_ids.items():
            unknown = [i for i in ids if i not in by_id]
            if unknown:
                raise SplitError(
                    f"{folder}: {split} lists {len(unknown)} utterance(s) not in the {listing.format} "
                    f"corpus at {listing.root} (e.g. {', '.join(unknown[:3])})"
                )
        shared = shared_speakers(split_ids, speaker_of)
        if not (needs.disjoint_speakers_required and shared):
            log.info("splits: the lists of %s (%s)", folder, _sizes(split_ids, speaker_of))
            return split_ids
        if explicit is not None:
            raise SplitError(
                f"needs speaker-disjoint splits, but the split lists of {folder} put {len(shared)} "
                f"speaker(s) in more than one split (e.g. {', '.join(shared[:3])}); give disjoint lists "
                "or leave data.splits unset"
            )
        log.warning(
            "%s: not using the split lists of %s (they share %d speakers between splits, the task needs "
            "speaker-disjoint splits)",
            needs.task or "task",
            folder,
            len(shared),
        )
    partition = full_partition(listing, by_id) if cfg.split_policy == "task" else None
    if partition is not None:
        shared = shared_speakers(partition, speaker_of)
        train_speakers = {speaker_of[u] for u in partition["train"]}
        unseen = {speaker_of[u] for s in ("dev", "test") for u in partition[s]} - train_speakers
        if needs.speaker_classes and unseen:  # speaker classes must all be trained: a seeded per-speaker split
            log.info("not using the %s corpus's own partition: its dev/test speakers are not in train", listing.format)
        elif not (needs.disjoint_speakers_required and shared):
            log.info("splits: the %s corpus's own partition (%s)", listing.format, _sizes(partition, speaker_of))
            return partition
        else:
            log.warning(
                "%s: not using the %s corpus's own partition (it shares %d speakers between splits, the task "
                "needs speaker-disjoint splits)",
                needs.task or "task",
                listing.format,
                len(shared),
            )
    policy = needs.split_policy if cfg.split_policy == "task" else cfg.split_policy
    if needs.disjoint_speakers_required and policy != "disjoint_speakers":
        raise SplitError(
            f"needs speaker-disjoint splits; data.split_policy={cfg.split_policy} puts every speaker in every split"
        )
    if policy == "per_speaker":
        split_ids = split_per_speaker(speaker_of, cfg.split_seed)
        how = "each speaker's utterances 8:1:1"
    else:
        split_ids = split_disjoint_speakers(speaker_of, cfg.split_seed, listing.partition)
        kept_test = any(p == "test" for p in listing.partition.values()) and set(split_ids["test"]) == {
            u for u, p in listing.partition.items() if p == "test" and u in by_id
        }
        how = (
            f"the {listing.format} corpus's own test set kept, dev speakers drawn from the rest"
            if kept_test
            else "speakers 8:1:1 (speaker-disjoint)"
        )
    log.info(
        "splits: seeded (data.split_seed=%d, data.split_policy=%s): %s (%s)",
        cfg.split_seed,
        cfg.split_policy if cfg.split_policy != "task" else f"task: {policy}",
        how,
        _sizes(split_ids, speaker_of),
    )
    return split_ids


def shared_speakers(split_ids: dict[str, list[str]], speaker_of: dict[str, str]) -> list[str]:
    """Speakers with utterances in more than one split."""
    seen: dict[str, set[str]] = {}
    for split, ids in split_ids.items():
        for u in ids:
            seen.setdefault(speaker_of[u], set()).add(split)
    return sorted(s for s, splits in seen.items() if len(splits) > 1)
