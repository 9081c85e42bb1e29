"""aalbert.padding.valid_mask: the one test of which frames of a padded batch are real."""

import torch

from aalbert.padding import valid_mask


def test_valid_mask_marks_each_utterances_first_frames():
    mask = valid_mask(torch.tensor([3, 0, 5]), 5)
    assert mask.dtype == torch.bool and mask.shape == (3, 5)
    assert mask.sum(1).tolist() == [3, 0, 5]
    assert mask[0].tolist() == [True, True, True, False, False]


def test_valid_mask_follows_the_lengths_device_and_pads_beyond_the_longest():
    lengths = torch.tensor([2])
    mask = valid_mask(lengths, 4)
    assert mask.device == lengths.device and mask[0].tolist() == [True, True, False, False]
