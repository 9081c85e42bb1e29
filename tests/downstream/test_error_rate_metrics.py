"""Word and character error rates against a hand-written edit distance and hand-counted examples."""

import random

import pytest

from aalbert.downstream.metrics.error_rate import (
    character_counts,
    edit_counts,
    edit_distance,
    error_rate,
    error_rates,
    word_counts,
    words_of,
)


def reference_distance(hyp, ref):
    """Levenshtein distance by the textbook dynamic programme (unit costs)."""
    rows = [list(range(len(ref) + 1))]
    for i, h in enumerate(hyp, 1):
        row = [i]
        for j, r in enumerate(ref, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (h != r)))
        rows.append(row)
    return rows[-1][-1]


def test_edit_distance_matches_the_dynamic_programme_on_random_sequences():
    rng = random.Random(0)
    for _ in range(300):
        hyp = [rng.choice("abc") for _ in range(rng.randint(0, 8))]
        ref = [rng.choice("abc") for _ in range(rng.randint(0, 8))]
        assert edit_distance(hyp, ref) == reference_distance(hyp, ref), (hyp, ref)


@pytest.mark.parametrize(
    ("hyp", "ref", "edits"),
    [
        ("THE CAT SAT".split(), "THE CAT SAT".split(), 0),
        ("THE BAT SAT".split(), "THE CAT SAT".split(), 1),  # substitution
        ("THE BIG CAT SAT".split(), "THE CAT SAT".split(), 1),  # insertion
        ("THE SAT".split(), "THE CAT SAT".split(), 1),  # deletion
        ([], "THE CAT SAT".split(), 3),  # empty hypothesis: every reference word deleted
        ("A B".split(), [], 2),  # empty reference: every word inserted
        ("SAT CAT THE".split(), "THE CAT SAT".split(), 2),  # reordered: two substitutions
    ],
)
def test_known_word_edits(hyp, ref, edits):
    assert edit_distance(hyp, ref) == edits == reference_distance(hyp, ref)


def test_wer_is_summed_edits_over_summed_reference_words():
    hyps = ["THE BAT SAT".split(), []]
    refs = ["THE CAT SAT".split(), "A DOG".split()]
    counts = word_counts(hyps, refs)
    assert counts == {"word_edits": 1 + 2, "words": 3 + 2}
    assert error_rates(counts, ["wer"]) == {"wer": pytest.approx(3 / 5)}
    # not the mean of the per-utterance rates (1/3 and 1): the longer utterance weighs more
    assert error_rates(counts, ["wer"])["wer"] != pytest.approx((1 / 3 + 1) / 2)


def test_characters_give_cer_with_the_boundary_and_wer_from_the_words():
    ref = list("THE|CAT")
    hyp = list("THE|CAP")
    counts = character_counts([hyp], [ref])
    assert counts == {"char_edits": 1, "chars": 7, "word_edits": 1, "words": 2}
    rates = error_rates(counts, ["cer", "wer"])
    assert rates == {"cer": pytest.approx(1 / 7), "wer": pytest.approx(1 / 2)}
    # a missing boundary is one character edit but joins two words: one substitution, one deletion
    joined = character_counts([list("THECAT")], [ref])
    assert joined["char_edits"] == 1 and joined["word_edits"] == 2


def test_words_of_ignores_repeated_and_outer_boundaries():
    assert words_of(list("|THE||CAT|")) == ["THE", "CAT"]
    assert words_of([]) == [] and words_of(["|"]) == []
    assert words_of(list("IT'S|ME")) == ["IT'S", "ME"]


def test_empty_counts_and_lengths_are_safe():
    assert error_rate(0, 0) == 0.0
    assert error_rates({}, ["cer", "wer"]) == {"cer": 0.0, "wer": 0.0}
    assert edit_counts([], []) == (0, 0)
    with pytest.raises(ValueError, match="2 hypotheses for 1 references"):
        edit_counts([[], []], [[]])


def test_counts_add_up_to_the_counts_of_the_whole():
    """Totals over batches equal the totals over the split at once (the runner sums counts)."""
    rng = random.Random(1)
    words = ["A", "B", "C", "D"]
    refs = [[rng.choice(words) for _ in range(rng.randint(1, 6))] for _ in range(20)]
    hyps = [[rng.choice(words) for _ in range(rng.randint(0, 6))] for _ in range(20)]
    whole = word_counts(hyps, refs)
    halves = [word_counts(hyps[:7], refs[:7]), word_counts(hyps[7:], refs[7:])]
    assert {k: sum(h[k] for h in halves) for k in whole} == whole
    expected = sum(reference_distance(h, r) for h, r in zip(hyps, refs)) / sum(map(len, refs))
    assert error_rates(whole, ["wer"])["wer"] == pytest.approx(expected)
