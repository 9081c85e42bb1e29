"""Error rates of recognised symbol sequences: edit counts per utterance, rates from their sums.

A step counts edits (substitutions + insertions + deletions, Levenshtein) and reference symbols;
the rate of a split is the summed edits over the summed reference length (never an average of
per-utterance rates, which would weigh a two-word utterance like a fifty-word one). As in s3prl's
``asr`` task, the character error rate counts the word boundary ``|`` as a character, and words are
the character sequence split at it.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import editdistance

from ..data.label_kinds import WORD_BOUNDARY  # "|", between words in sequence.characters (SUPERB's letter units)

# the counts a step adds up (a number is summed over batches), by error rate
COUNT_KEYS = {"cer": ("char_edits", "chars"), "wer": ("word_edits", "words"), "per": ("edits", "reference_phones")}


def edit_distance(hypothesis: Sequence[Hashable], reference: Sequence[Hashable]) -> int:
    """Substitutions + insertions + deletions turning ``hypothesis`` into ``reference``."""
    return int(editdistance.eval(list(hypothesis), list(reference)))


def edit_counts(hypotheses: Sequence[Sequence[Hashable]], references: Sequence[Sequence[Hashable]]) -> tuple[int, int]:
    """``(edits, reference symbols)`` summed over utterances (hypothesis i against reference i)."""
    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} hypotheses for {len(references)} references")
    edits = sum(edit_distance(h, r) for h, r in zip(hypotheses, references))
    return edits, sum(len(r) for r in references)


def words_of(characters: Sequence[str], boundary: str = WORD_BOUNDARY) -> list[str]:
    """The words of a character sequence: split at ``boundary``; repeated, leading or trailing
    boundaries make no empty words (a recogniser may emit them)."""
    return [word for word in "".join(characters).split(boundary) if word]


def character_counts(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, int]:
    """Counts for both ``cer`` and ``wer`` from character sequences (words split at ``|``)."""
    char_edits, chars = edit_counts(hypotheses, references)
    word_edits, words = edit_counts([words_of(h) for h in hypotheses], [words_of(r) for r in references])
    return {"char_edits": char_edits, "chars": chars, "word_edits": word_edits, "words": words}


def word_counts(hypotheses: Sequence[Sequence[str]], references: Sequence[Sequence[str]]) -> dict[str, int]:
    """Counts for ``wer`` from word sequences."""
    word_edits, words = edit_counts(hypotheses, references)
    return {"word_edits": word_edits, "words": words}


def error_rate(edits: float, length: float) -> float:
    """``edits / length``; 0.0 for an empty reference (a training batch may hold no words)."""
    return float(edits) / float(length) if length else 0.0


def error_rates(counts: Mapping[str, float], names: Sequence[str]) -> dict[str, float]:
    """The error rates ``names`` (``cer``, ``wer``, ``per``) from summed counts; missing counts are 0."""
    out = {}
    for name in names:
        edits_key, length_key = COUNT_KEYS[name]
        out[name] = error_rate(counts.get(edits_key, 0), counts.get(length_key, 0))
    return out
