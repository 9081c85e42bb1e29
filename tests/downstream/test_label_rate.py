import pytest
import torch

from aalbert.downstream.data.labels import (
    IGNORE_INDEX,
    LabelLengthError,
    labels_at_feature_rate,
    phone_sequence,
    reconcile_length,
    stack_labels,
)


def test_stack_labels_majority_of_three():
    assert stack_labels([1, 1, 2, 2, 2, 3, 4, 4, 5], 3) == [1, 2, 4]


def test_stack_labels_tie_takes_centre_and_short_last_group():
    # three different labels: the centre frame's; last group of 2 with a tie: its centre (index 1)
    assert stack_labels([1, 2, 3, 7, 8], 3) == [2, 8]


def test_stack_labels_factor_one_is_identity():
    assert stack_labels([3, 1, 2], 1) == [3, 1, 2]


def test_reconcile_pads_by_repeating_last_and_trims():
    assert reconcile_length([1, 2, 3], 5, "u") == [1, 2, 3, 3, 3]
    assert reconcile_length([1, 2, 3, 4, 5], 3, "u") == [1, 2, 3]
    assert reconcile_length([1, 2], 2, "u") == [1, 2]


def test_reconcile_mismatch_over_two_frames_names_utterance():
    with pytest.raises(LabelLengthError, match=r"utt-42.*mismatch \+3"):
        reconcile_length([0] * 10, 7, "utt-42")
    with pytest.raises(LabelLengthError, match="utt-43"):
        reconcile_length([0] * 4, 7, "utt-43")


def test_labels_at_feature_rate_pads_with_ignore_index():
    out = labels_at_feature_rate([[1, 1, 1, 2, 2, 2], [3, 3, 3]], torch.tensor([2, 1]), 3, ["a", "b"])
    assert out.tolist() == [[1, 2], [3, IGNORE_INDEX]]


def test_phone_sequence_merges_repeats_and_drops_silence():
    assert phone_sequence([0, 0, 1, 1, 2, 0, 2, 2, 0], {0}) == [1, 2, 2]
