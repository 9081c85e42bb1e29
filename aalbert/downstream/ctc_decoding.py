"""Decoding CTC outputs into symbol sequences: greedy (best path) and prefix beam search, no language model.

Both take ``log_probs`` (B, T, C) with the blank at class ``blank`` and return, per utterance,
the output classes emitted (blanks dropped, repeats merged), not yet mapped to symbols. Greedy
takes the most likely class per frame; beam search keeps the ``beam_size`` most likely label
prefixes (summing over the frame paths that spell each), which can find a sequence whose many
paths together outweigh the single best path. Its answer is rescored exactly, together with the
greedy one, so a wider beam never returns a less likely sequence than greedy decoding.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

NEG_INF = -math.inf


def greedy_decode(log_probs: torch.Tensor, lengths: torch.Tensor, blank: int = 0) -> list[list[int]]:
    """Best path per utterance: argmax per frame, repeats merged, blanks dropped."""
    best = log_probs.argmax(-1).tolist()
    out = []
    for path, n in zip(best, lengths.tolist()):
        seq, previous = [], blank
        for p in path[:n]:
            if p != previous and p != blank:
                seq.append(p)
            previous = p
        out.append(seq)
    return out


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    top = max(a, b)
    return top + math.log1p(math.exp(-abs(a - b)))


def _add(grown: dict[tuple[int, ...], list[float]], prefix: tuple[int, ...], ending: int, value: float) -> None:
    """Add the probability ``value`` of paths spelling ``prefix`` that end in a blank (``ending`` 0) or its last label (1)."""
    slot = grown.setdefault(prefix, [NEG_INF, NEG_INF])
    slot[ending] = _logadd(slot[ending], value)


def sequence_log_prob(log_probs: torch.Tensor, sequence: list[int], blank: int = 0) -> float:
    """log P(sequence | one utterance's (T, C) log-probs): the sum over every frame path that spells it."""
    if not sequence and log_probs.shape[0] == 0:
        return 0.0
    targets = torch.tensor([sequence], dtype=torch.long)
    nll = F.ctc_loss(
        log_probs.double().unsqueeze(1),
        targets,
        torch.tensor([log_probs.shape[0]]),
        torch.tensor([len(sequence)]),
        blank=blank,
        reduction="sum",
        zero_infinity=False,
    )
    return -float(nll)


def prefix_beam_search(log_probs: torch.Tensor, beam_size: int, blank: int = 0) -> list[int]:
    """The most likely label sequence found by a CTC prefix beam search over one utterance's
    (T, C) log-probs; each frame extends the prefixes by its ``beam_size`` most likely classes."""
    frames = log_probs.double().tolist()
    classes = log_probs.shape[-1]
    width = min(beam_size, classes)
    # prefix -> (log P(paths so far ending in blank), log P(ending in the prefix's last label))
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}
    for frame in frames:
        candidates = sorted(range(classes), key=frame.__getitem__, reverse=True)[:width]
        grown: dict[tuple[int, ...], list[float]] = {}
        for prefix, (p_blank, p_label) in beams.items():
            total = _logadd(p_blank, p_label)
            _add(grown, prefix, 0, total + frame[blank])
            if prefix:  # the last label held on: no new symbol
                _add(grown, prefix, 1, p_label + frame[prefix[-1]])
            for c in candidates:
                if c == blank:
                    continue
                # a repeat of the last label is a new symbol only after a blank
                _add(grown, prefix + (c,), 1, (p_blank if prefix and c == prefix[-1] else total) + frame[c])
        ranked = sorted(grown.items(), key=lambda item: _logadd(*item[1]), reverse=True)
        beams = {prefix: (slot[0], slot[1]) for prefix, slot in ranked[:beam_size]}
    best, _ = max(beams.items(), key=lambda item: _logadd(*item[1]))
    return list(best)


def beam_search_decode(
    log_probs: torch.Tensor, lengths: torch.Tensor, beam_size: int, blank: int = 0
) -> list[list[int]]:
    """Prefix beam search per utterance (``beam_size`` 1: greedy decoding). The beam's best and the
    greedy sequence are rescored over all their paths and the likelier is kept: pruning makes the
    beam's own scores lower bounds, and this way a wider beam never does worse than greedy."""
    greedy = greedy_decode(log_probs, lengths, blank)
    if beam_size <= 1:
        return greedy
    out = []
    with torch.no_grad():
        for utterance, n, best_path in zip(log_probs.detach().cpu(), lengths.tolist(), greedy):
            frames = utterance[:n]
            found = prefix_beam_search(frames, beam_size, blank)
            if found != best_path and sequence_log_prob(frames, found, blank) < sequence_log_prob(
                frames, best_path, blank
            ):
                found = best_path
            out.append(found)
    return out
