"""The one way a frozen upstream is run over a corpus: the downstream feature cache
(aalbert.downstream.feature_cache) and ``aalbert extract`` both read its batches.

* Utterances are sorted by length (stable: equal lengths keep the order given) and cut into batches,
  so little compute goes to padding. The batches depend only on the utterances, their order and the
  batch size: ``aalbert extract`` deals whole batches to its shards, so every utterance is computed
  in the same batch however many processes run, and a resumed run recomputes whole batches.
* Each batch's hidden states come with their lengths at the upstream's frame rate;
  :meth:`ExtractedBatch.valid` cuts one utterance's valid frames out (padding never leaves here).
* GPU-ready: the next batch's audio is decoded in a background thread while the model runs; on
  CUDA the waves go to pinned memory and are copied with ``non_blocking=True``, and results come
  back to the host with one non-blocking copy per tensor and one stream synchronisation per batch.
  On CPU the same code runs with pinning off (tests/extract/test_extract_batches.py exercises the
  pinned path on CPU by forcing it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch
from torch import nn

from aalbert.audio import audio_info
from aalbert.corpus.utterance import Utterance, load_utterance_audio


def num_samples(utt: Utterance) -> int:
    """The utterance's length in samples (read from the audio header when the reader left it out)."""
    return audio_info(utt.path)[0] if utt.num_samples is None else utt.num_samples


def length_batches(utterances: Iterable[Utterance], batch_size: int) -> list[list[Utterance]]:
    """``utterances`` sorted by length (stable) and cut into batches of ``batch_size``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    by_length = sorted(utterances, key=num_samples)
    return [by_length[i : i + batch_size] for i in range(0, len(by_length), batch_size)]


@dataclass
class Transfer:
    """How tensors move between host and device: pinned host memory and non-blocking copies on CUDA."""

    device: torch.device
    pin_memory: bool
    non_blocking: bool

    @classmethod
    def for_device(cls, device: torch.device | str, pin_memory: bool | None = None) -> Transfer:
        device = torch.device(device)
        cuda = device.type == "cuda"
        return cls(device, cuda if pin_memory is None else pin_memory, cuda)

    def pinned(self, wave: torch.Tensor) -> torch.Tensor:
        # page-locked host memory: the copy to the device can then overlap the running kernels
        return wave.pin_memory() if self.pin_memory else wave

    def to_device(self, wave: torch.Tensor) -> torch.Tensor:
        return wave.to(self.device, non_blocking=self.non_blocking)

    def to_host(self, tensors: list[torch.Tensor]) -> list[torch.Tensor]:
        """Every tensor on the host as float32; returns once all copies have landed."""
        out = [t.to("cpu", non_blocking=self.non_blocking) for t in tensors]
        if self.non_blocking and self.device.type == "cuda":
            torch.cuda.current_stream(self.device).synchronize()  # once per batch, not per tensor
        return [t.float() for t in out]


@dataclass
class ExtractedBatch:
    utterances: list[Utterance]
    hidden_states: list[torch.Tensor]  # (B, T, H) each, on the upstream's device, zero-padded
    lengths: list[int]  # valid frames of each utterance

    def valid(self, i: int, states: list[torch.Tensor] | None = None) -> list[torch.Tensor]:
        """Utterance ``i``'s valid frames (T_i, H) of each of ``states`` (default: every hidden state)."""
        n = self.lengths[i]
        return [h[i, :n] for h in (self.hidden_states if states is None else states)]


def _load(batch: list[Utterance], transfer: Transfer) -> list[torch.Tensor]:
    return [transfer.pinned(load_utterance_audio(u)) for u in batch]  # in the loader thread


@torch.no_grad()
def extract_batches(
    upstream: nn.Module,
    batches: list[list[Utterance]],
    device: torch.device | str = "cpu",
    num_hidden_states: int | None = None,
    on_batch: Callable[[list[Utterance]], object] | None = None,
    pin_memory: bool | None = None,
) -> Iterator[ExtractedBatch]:
    """Run the frozen ``upstream`` (in eval mode: dropout must not reach frozen features) over
    ``batches`` in order, yielding each batch's hidden states. ``num_hidden_states``: what the
    caller expects (an upstream giving another number is an error); ``on_batch`` is called with each
    batch once it is computed (progress)."""
    transfer = Transfer.for_device(device, pin_memory)
    upstream = upstream.to(transfer.device).eval()
    if not batches:
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="aalbert-audio") as pool:
        pending = pool.submit(_load, batches[0], transfer)
        for index, batch in enumerate(batches):
            waves = pending.result()
            if index + 1 < len(batches):  # decode the next batch while this one runs
                pending = pool.submit(_load, batches[index + 1], transfer)
            out = upstream([transfer.to_device(w) for w in waves])
            hidden = list(out["hidden_states"])
            if num_hidden_states is not None and len(hidden) != num_hidden_states:
                raise ValueError(f"upstream gave {len(hidden)} hidden states, expected {num_hidden_states}")
            yield ExtractedBatch(batch, hidden, [int(n) for n in out["lengths"]])
            if on_batch is not None:
                on_batch(batch)
