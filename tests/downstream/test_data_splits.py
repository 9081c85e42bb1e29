import pytest

from aalbert.downstream.data.splits import SplitError, label_fraction, read_split_files, split_per_speaker


def _speakers(n_spk=4, n_utt=10):
    return {f"{s}-1-{u:04d}": str(s) for s in range(n_spk) for u in range(n_utt)}


def test_per_speaker_split_is_8_1_1_deterministic_and_disjoint():
    spk = _speakers()
    a, b = split_per_speaker(spk, seed=3), split_per_speaker(spk, seed=3)
    assert a == b
    assert [len(a[s]) for s in ("train", "dev", "test")] == [32, 4, 4]
    assert not set(a["train"]) & set(a["dev"]) and not set(a["dev"]) & set(a["test"])
    for split in ("train", "dev", "test"):
        assert {spk[u] for u in a[split]} == {"0", "1", "2", "3"}  # every speaker everywhere
    assert split_per_speaker(spk, seed=4) != a


def test_speaker_with_two_utterances_goes_to_train():
    out = split_per_speaker({"1-1-0": "1", "1-1-1": "1"}, seed=0)
    assert out == {"train": ["1-1-0", "1-1-1"], "dev": [], "test": []}


def test_label_fraction_is_nested_deterministic_and_at_least_one():
    ids = [f"u{i:03d}" for i in range(200)]
    small, large = label_fraction(ids, 0.1, 0), label_fraction(ids, 0.5, 0)
    assert len(small) == 20 and len(large) == 100
    assert set(small) <= set(large)
    assert label_fraction(ids, 0.1, 0) == small
    assert len(label_fraction(ids, 0.001, 0)) == 1
    assert label_fraction(ids, 1.0, 0) == sorted(ids)
    with pytest.raises(ValueError, match="label fraction"):
        label_fraction(ids, 0.0, 0)


def test_read_split_files(tmp_path):
    for split, ids in {"train": "a\nb\n", "dev": "c\n", "test": "d e\n"}.items():
        (tmp_path / f"{split}.txt").write_text(ids)
    assert read_split_files(tmp_path) == {"train": ["a", "b"], "dev": ["c"], "test": ["d"]}
    (tmp_path / "dev.txt").unlink()
    with pytest.raises(SplitError, match="dev.txt"):
        read_split_files(tmp_path)


def test_split_files_give_back_every_id_a_run_wrote(tmp_path):
    """Ids from Lhotse manifests or file names may hold '/', spaces or '.wav': a run's own split
    files (what a rerun reads) give back exactly those ids."""
    from aalbert.downstream.data.splits import write_split_files

    split_ids = {
        "train": ["../../outside/victim", "my recording", "a/b.wav", "plain-1"],
        "dev": ["Tone-A", "x y z"],
        "test": ["tone-a", "c:\\d"],
    }
    known = {u for ids in split_ids.values() for u in ids} | {"victim", "my", "b", "x"}
    write_split_files(split_ids, tmp_path)
    assert read_split_files(tmp_path, known) == split_ids
    # lists written by hand keep working: extra columns, and file paths standing for their stems
    (tmp_path / "train.txt").write_text("plain-1 extra column\n/data/audio/victim.flac\n# comment\n")
    assert read_split_files(tmp_path, known)["train"] == ["plain-1", "victim"]


@pytest.mark.parametrize("uttid", ["two\nlines", "#hash", " lead", "trail ", "", "sep\u2028arated"])
def test_an_id_that_cannot_be_a_line_is_refused_before_writing(uttid, tmp_path):
    from aalbert.downstream.data.splits import write_split_files

    with pytest.raises(SplitError, match="cannot be written as a line of a split file"):
        write_split_files({"train": ["ok", uttid], "dev": ["d"], "test": ["t"]}, tmp_path / "splits")
    assert not (tmp_path / "splits").exists()
