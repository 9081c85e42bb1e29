"""Labels and features agree: one frame convention (aalbert.corpus.frames) for every reader.

For a generated utterance with a phone boundary at sample s, the first frame labelled with the
new phone must be the first frame whose centre (sample 160 i, as the feature extractor centres
its STFT) lies in the new phone, i.e. the frame centre nearest s at or after it; more than half
of that frame's analysis window holds the new phone and less than half of the previous one's.
Every reader is checked, plus the synthetic corpus generator.
"""

import json
import math

import numpy as np
import pytest
import soundfile
from corpus_layouts import write_kaldi, write_lhotse, write_textgrids, write_timit

from aalbert.corpus.frames import num_frames, segment_frame_labels, tiling_problems
from aalbert.corpus.problems import Problems
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusConfig
from aalbert.corpus.synthetic.align import Segment, frame_phone_ids
from aalbert.corpus.synthetic.phones import PHONE_ID
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data.attach import attach_frames
from aalbert.errors import BadInputError
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.features import FeatureExtractor

N = 8000  # samples in the utterance
BOUNDARIES = [160 * 20, 160 * 20 + 1, 160 * 20 + 79, 160 * 20 + 80, 160 * 20 + 159, 3333]
EXTRACTOR = FeatureExtractor(FeatureConfig())


def expected_first_frame(s: int) -> int:
    return math.ceil(s / 160)


def test_frame_count_is_the_feature_extractors():
    for n in (400, 1119, 1120, 1121, 16000, 16001):
        assert num_frames(n) == int(EXTRACTOR.num_frames(n)) == n // 160 + 1
        wave = np.random.default_rng(0).standard_normal(n).astype(np.float32)
        import torch

        assert EXTRACTOR([torch.from_numpy(wave)]).inputs.shape[1] == num_frames(n)


@pytest.mark.parametrize("s", BOUNDARIES)
def test_convention_puts_the_boundary_at_the_first_centre_inside_the_new_phone(s):
    labels = segment_frame_labels([(0, s, 0), (s, N, 1)], N, fill=0)
    first = labels.index(1)
    assert first == expected_first_frame(s)
    centres = [160 * i for i in range(len(labels))]
    assert centres[first] >= s and centres[first] - s == min(c - s for c in centres if c >= s)
    half = EXTRACTOR.win_length // 2
    new_share = lambda i: (min(160 * i + half, N) - max(160 * i - half, s)) / EXTRACTOR.win_length  # noqa: E731
    assert new_share(first) >= 0.5 > new_share(first - 1)


@pytest.mark.parametrize("s", [160 * 20 + 1, 160 * 20 + 159])
def test_synthetic_corpus_uses_the_convention(s):
    labels = frame_phone_ids([Segment(0, s, "sil"), Segment(s, N, "AA")], N)
    assert len(labels) == num_frames(N) and labels.index(PHONE_ID["AA"]) == expected_first_frame(s)


def _one_utterance_corpus(root, s):
    """LibriSpeech layout, one utterance: silence then a tone from sample s."""
    folder = root / "train-x" / "100" / "7"
    folder.mkdir(parents=True)
    wave = np.zeros(N, dtype=np.float32)
    wave[s:] = 0.5 * np.sin(2 * np.pi * 500 * np.arange(N - s) / 16000)
    soundfile.write(folder / "100-7-0000.flac", wave, 16000)
    (root / "tone_segments.json").write_text(json.dumps({"100-7-0000": [[0, s, "sil"], [s, N, "aa"]]}))
    return root


READERS = ["timit", "lhotse", "kaldi+textgrid", "librispeech+textgrid", "kaldi+s3prl"]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("s", [160 * 20 + 1, 160 * 20 + 80, 160 * 20 + 159])
def test_every_reader_labels_the_boundary_frame_by_the_convention(reader, s, tmp_path):
    tone = _one_utterance_corpus(tmp_path / "tone", s)
    if reader == "timit":
        cfg = DataConfig(format="timit", roots=[str(write_timit(tone, tmp_path / "timit"))])
    elif reader == "lhotse":
        cfg = DataConfig(format="lhotse", roots=[str(write_lhotse(tone, tmp_path / "lhotse"))])
    elif reader == "kaldi+s3prl":
        align = tmp_path / "align"
        align.mkdir()
        labels = segment_frame_labels([(0, s, 0), (s, N, 1)], N, fill=0)
        (align / "alignments.txt").write_text("100-7-0000 " + " ".join(map(str, labels)) + "\n")
        (align / "phones.txt").write_text("0 sil\n1 aa\n")
        cfg = DataConfig(format="kaldi", roots=[str(write_kaldi(tone, tmp_path / "kaldi"))], alignment=str(align))
    else:
        fmt, root = (
            ("kaldi", write_kaldi(tone, tmp_path / "kaldi")) if reader.startswith("kaldi") else ("librispeech", tone)
        )
        cfg = DataConfig(format=fmt, roots=[str(root)], alignment=str(write_textgrids(tone, tmp_path / "tg")))
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems("test")
    names = attach_frames(cfg, listing, problems)
    assert not problems.items
    (utt,) = listing.utterances
    assert len(utt.phones) == num_frames(N)
    new_phone = [i for i, n in enumerate(names) if n.lower() == "aa"][0]
    assert utt.phones.index(new_phone) == expected_first_frame(s)
    assert set(utt.phones[: expected_first_frame(s)]) == {names.index("sil")}


# The tiling rule every reader applies to timed labels (aalbert.corpus.frames.tiling_problems)
UTT = 16000  # samples: 1 s
TILED = [(0, 3200, "h#"), (3200, 9600, "iy"), (9600, UTT, "h#")]


def test_tiled_segments_have_no_problem():
    assert tiling_problems(TILED, UTT, gap_tolerance=160, end_tolerance=8000) == []


@pytest.mark.parametrize(("gap", "problem"), [(160, None), (161, "gap"), (-160, None), (-161, "overlap")])
def test_a_gap_or_overlap_of_more_than_the_tolerance_is_a_problem(gap, problem):
    segments = [TILED[0], (3200 + gap, 9600, "iy"), TILED[2]]
    found = tiling_problems(segments, UTT, gap_tolerance=160, end_tolerance=8000)
    if problem is None:
        assert found == []
    else:
        (message,) = found
        assert message.startswith(f"{problem} of {abs(gap) / 16000:.3f} s ({abs(gap)} samples")
        assert f"'h#' ending at 0.200 s (sample 3200) and 'iy' starting at {_s(3200 + gap)}" in message


def _s(sample):
    return f"{sample / 16000:.3f} s (sample {sample})"


def test_the_end_keeps_the_label_tolerance_and_the_start_the_gap_tolerance():
    # ending early within data.label_tolerance_s is the known TIMIT quirk: the tail becomes silence
    assert tiling_problems(TILED[:2], UTT, gap_tolerance=160, end_tolerance=UTT - 9600) == []
    (early,) = tiling_problems(TILED[:2], UTT, gap_tolerance=160, end_tolerance=UTT - 9601)
    assert early.startswith("labels end at sample 9600") and "before the audio" in early
    (late,) = tiling_problems([*TILED[:2], (9600, UTT + 200, "h#")], UTT, gap_tolerance=160, end_tolerance=160)
    assert late.startswith(f"labels run to sample {UTT + 200}, past the end of the audio")
    (start,) = tiling_problems([(161, 3200, "h#"), *TILED[1:]], UTT, gap_tolerance=160, end_tolerance=0)
    assert start.startswith("labels start at 0.010 s (sample 161)")


def test_the_gap_tolerance_is_at_most_one_frame():
    assert CorpusConfig(label_gap_tolerance_s=0.01).gap_tolerance_samples == 160
    assert CorpusConfig(label_gap_tolerance_s=0).gap_tolerance_samples == 0
    with pytest.raises(BadInputError, match="label_gap_tolerance_s must be between 0 and 0.01"):
        CorpusConfig(label_gap_tolerance_s=0.02)
