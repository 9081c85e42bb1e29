"""One shard of ``aalbert extract``: its batches through the upstream, into its files.

The corpus's length-sorted batches (aalbert.downstream.extraction.length_batches) are dealt to the
shards whole, batch ``b`` to shard ``b % shards``: every utterance is computed in the same batch
however many processes run, so ``--jobs 2`` writes the same numbers as ``--jobs 1``. A rerun keeps
the verified prefix of the shard's journal (aalbert.extract.storage) and recomputes from the batch
holding the first utterance not verified, writing only the utterances after the prefix.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.corpus.utterance import Utterance
from aalbert.downstream.extraction import Transfer, extract_batches, num_samples
from aalbert.downstream.feature_cache import audio_key

from .selection import Selection
from .storage import ShardStore

log = logging.getLogger(__name__)
Progress = Callable[[int, float], None]  # (utterances done, their seconds of audio)


def shard_batches(batches: list[list[Utterance]], shard: int, shards: int) -> list[list[Utterance]]:
    return batches[shard::shards]


@dataclass
class ShardStats:
    shard: int
    utterances: int = 0  # in this shard
    extracted: int = 0  # computed and written now
    reused: int = 0  # verified from an earlier run
    audio_seconds: float = 0.0  # of the extracted ones
    files_written: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)


def run_shard(
    upstream: nn.Module,
    batches: list[list[Utterance]],
    store: ShardStore,
    selection: Selection,
    device: torch.device | str,
    progress: Progress | None = None,
    pin_memory: bool | None = None,
) -> ShardStats:
    """Extract ``batches`` (this shard's, in order) into ``store``, resuming what a killed run left."""
    start = time.perf_counter()
    utterances = [u for batch in batches for u in batch]
    keys = [audio_key(u) for u in utterances]
    done = store.resume([(u.uttid, key) for u, key in zip(utterances, keys)])
    stats = ShardStats(store.shard, len(utterances), reused=done)
    if progress is not None and done:
        progress(done, 0.0)
    # whole batches from the one holding the first utterance not done: the same batches as a straight run
    first, skipped = 0, 0
    while first < len(batches) and skipped + len(batches[first]) <= done:
        skipped += len(batches[first])
        first += 1
    if done:
        log.info("shard %d: %d of %d utterances verified from an earlier run", store.shard, done, len(utterances))
    position = skipped
    try:
        for out in extract_batches(upstream, batches[first:], device, pin_memory=pin_memory):
            streams = selection.apply(out.hidden_states, torch.tensor(out.lengths))
            host = store_ready(streams, out.hidden_states[0].device, pin_memory)
            new, seconds = 0, 0.0
            for i, utt in enumerate(out.utterances):
                if position >= done:
                    store.write(utt.uttid, keys[position], [h[i, : out.lengths[i]].numpy() for h in host])
                    new += 1
                    seconds += num_samples(utt) / SAMPLE_RATE
                position += 1
            stats.extracted += new
            stats.audio_seconds += seconds
            if progress is not None:
                progress(new, seconds)
    finally:
        store.close()
    stats.files_written = store.files_written
    stats.seconds = time.perf_counter() - start
    return stats


def store_ready(streams: list[torch.Tensor], device: torch.device, pin_memory: bool | None) -> list[torch.Tensor]:
    """The streams on the host, float32, contiguous (what the writers serialise)."""
    return [h.contiguous() for h in Transfer.for_device(device, pin_memory).to_host(streams)]
