import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from aalbert.corpus.frames import num_frames
from aalbert.corpus.problems import CorpusValidationError, Problems
from aalbert.corpus.registry import read_corpus
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.data.alignment import (
    AlignmentError,
    find_alignment_files,
    find_phone_list,
    read_alignments,
    read_phone_list,
)
from aalbert.downstream.data.attach import attach_frames

FRAMES = TaskData("frames", "per_speaker")


def test_reads_phone_list_and_alignment_from_folder(tmp_path):
    (tmp_path / "phones.txt").write_text("0 sil\n1 aa\n2 b\n")
    (tmp_path / "converted_aligned_phones.txt").write_text("1-2-3 0 0 1 2\n4-5-6 2 2\n")
    names = read_phone_list(find_phone_list(tmp_path))
    assert names == ["sil", "aa", "b"]
    ali = read_alignments(find_alignment_files(tmp_path), num_phones=len(names))
    assert ali == {"1-2-3": [0, 0, 1, 2], "4-5-6": [2, 2]}


def test_name_first_phone_list_is_accepted(tmp_path):
    (tmp_path / "phones.txt").write_text("sil 0\naa 1\n")
    assert read_phone_list(tmp_path / "phones.txt") == ["sil", "aa"]


def test_out_of_range_id_names_file_line_and_utterance(tmp_path):
    f = tmp_path / "align.txt"
    f.write_text("a 0 1\nb 0 9\n")
    with pytest.raises(AlignmentError, match=r"align.txt:2: utterance b: phone id 9"):
        read_alignments([f], num_phones=3)


def test_non_integer_label_and_duplicate_utterance(tmp_path):
    f = tmp_path / "align.txt"
    f.write_text("a 0 x\n")
    with pytest.raises(AlignmentError, match=r"align.txt:1: utterance a"):
        read_alignments([f])
    f.write_text("a 0\na 1\n")
    with pytest.raises(AlignmentError, match="aligned twice"):
        read_alignments([f])


def test_phone_list_with_gap_is_rejected(tmp_path):
    (tmp_path / "phones.txt").write_text("0 sil\n2 aa\n")
    with pytest.raises(AlignmentError, match="missing"):
        read_phone_list(tmp_path / "phones.txt")


def test_folder_without_alignment_lists_its_content(tmp_path):
    (tmp_path / "readme.md").write_text("x")
    with pytest.raises(AlignmentError, match="readme.md"):
        find_alignment_files(tmp_path)


# Labels must tile the utterance: MFA TextGrids and s3prl alignments met the way users meet them,
# a LibriSpeech-layout corpus of 2 s utterances and the label files beside it.
SAMPLES = 32000
# MFA's phones tier: contiguous intervals, pauses written as intervals labelled ""
MFA_PHONES = [(0.0, 0.2, ""), (0.2, 0.4, "SH"), (0.4, 0.6, "IY1"), (0.6, 1.26, "HH"), (1.26, 2.0, "")]


def _librispeech(root, uttids=("100-7-0000",)):
    folder = root / "train-x" / "100" / "7"
    folder.mkdir(parents=True)
    wave = 0.1 * np.sin(2 * np.pi * 300 * np.arange(SAMPLES) / 16000).astype(np.float32)
    for uttid in uttids:
        soundfile.write(folder / f"{uttid}.flac", wave, 16000)
    return root


def _mfa_textgrid(path, phones, end=2.0):
    """A TextGrid in the long text format MFA writes: a words tier and a phones tier."""

    def tier(index, name, intervals):
        lines = [
            f"    item [{index}]:",
            '        class = "IntervalTier"',
            f'        name = "{name}"',
            "        xmin = 0",
            f"        xmax = {end}",
            f"        intervals: size = {len(intervals)}",
        ]
        for i, (start, stop, text) in enumerate(intervals, 1):
            lines += [f"        intervals [{i}]:", f"            xmin = {start}", f"            xmax = {stop}"]
            lines.append(f'            text = "{text}"')
        return lines

    head = ['File type = "ooTextFile"', 'Object class = "TextGrid"', "", "xmin = 0", f"xmax = {end}"]
    head += ["tiers? <exists>", "size = 2", "item []:"]
    body = tier(1, "words", [(0.0, 0.2, ""), (0.2, 1.26, "she"), (1.26, end, "")]) + tier(2, "phones", phones)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(head + body) + "\n")
    return path


def _frames_of(cfg):
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems("test")
    names = attach_frames(cfg, listing, problems)
    return listing, names, problems


def test_mfa_textgrid_empty_intervals_are_silence_not_gaps(tmp_path):
    root = _librispeech(tmp_path / "ls")
    _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0000.TextGrid", MFA_PHONES)
    cfg = DataConfig(format="librispeech", roots=[str(root)], alignment=str(tmp_path / "tg"))
    listing, names, problems = _frames_of(cfg)
    assert not problems.items
    (utt,) = listing.utterances
    assert len(utt.phones) == num_frames(SAMPLES)
    sil, hh = names.index("sil"), names.index("HH")
    assert set(utt.phones[:20]) == {sil} and set(utt.phones[127:]) == {sil}
    assert set(utt.phones[60:126]) == {hh}


def test_textgrid_with_a_hole_between_intervals_names_the_file_and_the_gap(tmp_path):
    root = _librispeech(tmp_path / "ls")
    holed = _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0000.TextGrid", [i for i in MFA_PHONES if i[2] != "HH"])
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="librispeech", roots=[str(root)], alignment=str(tmp_path / "tg")), FRAMES)
    text = str(err.value)
    assert f"{holed}: utterance 100-7-0000: gap of 0.660 s (10560 samples, 66 frames)" in text
    assert "ending at 0.600 s (sample 9600)" in text and "starting at 1.260 s (sample 20160)" in text


def test_textgrid_with_overlapping_intervals_is_reported_like_every_reader(tmp_path):
    root = _librispeech(tmp_path / "ls")
    phones = list(MFA_PHONES)
    phones[3] = (0.55, 1.26, "HH")
    path = _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0000.TextGrid", phones)
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="librispeech", roots=[str(root)], alignment=str(tmp_path / "tg")), FRAMES)
    assert f"{path}: utterance 100-7-0000: overlap of 0.050 s (800 samples)" in str(err.value)


def test_every_untiled_label_file_is_in_one_error(tmp_path):
    root = _librispeech(tmp_path / "ls", uttids=("100-7-0000", "100-7-0001", "100-7-0002"))
    _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0000.TextGrid", [i for i in MFA_PHONES if i[2] != "HH"])
    _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0001.TextGrid", [(0.3, 0.4, "SH"), *MFA_PHONES[2:]])
    _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0002.TextGrid", MFA_PHONES)
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="librispeech", roots=[str(root)], alignment=str(tmp_path / "tg")), FRAMES)
    problems = err.value.problems
    assert len(problems) == 2, problems
    assert "100-7-0000.TextGrid" in problems[0] and "gap of 0.660 s" in problems[0]
    assert "100-7-0001.TextGrid" in problems[1] and "labels start at 0.300 s (sample 4800)" in problems[1]


@pytest.mark.parametrize(("frames", "fits"), [(num_frames(SAMPLES) - 1, True), (150, False)])
def test_s3prl_alignment_is_checked_against_the_frame_count(tmp_path, frames, fits):
    root = _librispeech(tmp_path / "ls")
    align = tmp_path / "align"
    align.mkdir()
    (align / "phones.txt").write_text("0 sil\n1 sh\n")
    (align / "converted_aligned_phones.txt").write_text("100-7-0000 " + " ".join(["1"] * frames) + "\n")
    listing, _, problems = _frames_of(DataConfig(format="librispeech", roots=[str(root)], alignment=str(align)))
    if fits:
        assert not problems.items and listing.utterances[0].phones == [1] * frames
    else:
        (problem,) = problems.items
        assert problem.startswith(f"{align / 'converted_aligned_phones.txt'}: utterance 100-7-0000: 150 label frames")
        assert "(1.50 s)" in problem and "201 frames (2.00 s)" in problem


def _inspect(*args):
    return subprocess.run(
        [sys.executable, "-m", "aalbert", "corpus", "inspect", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_corpus_inspect_checks_the_textgrids_it_is_given(tmp_path):
    root = _librispeech(tmp_path / "ls", uttids=("100-7-0000", "100-7-0001"))
    holed = _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0000.TextGrid", [i for i in MFA_PHONES if i[2] != "HH"])
    _mfa_textgrid(tmp_path / "tg" / "100" / "100-7-0001.TextGrid", MFA_PHONES)
    proc = _inspect("--alignment", tmp_path / "tg", root)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert f"1 problem(s) in the phone labels of {root}" in proc.stderr
    assert f"{holed}: utterance 100-7-0000: gap of 0.660 s (10560 samples, 66 frames)" in proc.stderr
    holed.unlink()
    proc = _inspect("--json", "--alignment", tmp_path / "tg", root)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["utterances"], summary["with_frame_phones"]) == (2, 1)
