import pytest

from aalbert.downstream.data.alignment import (
    AlignmentError,
    find_alignment_files,
    find_phone_list,
    read_alignments,
    read_phone_list,
)


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
