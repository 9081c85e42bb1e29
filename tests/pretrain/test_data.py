import numpy as np
import pytest
import soundfile
from pretrain_fixtures import write_corpus

from aalbert.corpus.sources import source_specs
from aalbert.errors import BadInputError
from aalbert.pretrain.data import BatchDataset, crop_offset, epoch_batches, scan_corpus


def scan(*roots, min_samples: int = 1):
    """What the trainer reads for a recipe with these data.roots."""
    return scan_corpus(source_specs(roots), min_samples=min_samples)


def paths(corpus) -> list:
    return [u.path for u in corpus.utterances]


def test_scan_skips_corrupt_and_empty_files_with_warnings(tmp_path):
    good = write_corpus(tmp_path, n=3)
    (tmp_path / "100" / "1" / "bad.flac").write_bytes(b"not audio at all" * 10)
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 16000)
    with pytest.warns(UserWarning, match="skipping") as record:
        corpus = scan(tmp_path, min_samples=400)
    assert sorted(paths(corpus)) == sorted(good)
    assert len(corpus.unusable) == 2 and len(record) == 2
    assert any("bad.flac" in s for s in corpus.unusable) and any("empty" in s for s in corpus.unusable)


def test_scan_with_no_usable_file_is_an_error(tmp_path):
    (tmp_path / "bad.flac").write_bytes(b"junk")
    with pytest.warns(UserWarning), pytest.raises(BadInputError, match="no usable audio"):
        scan(tmp_path)


def test_file_list_root(tmp_path):
    paths = write_corpus(tmp_path / "c", n=3)
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join(str(p.relative_to(tmp_path)) for p in paths[:2]) + "\n")
    assert [u.path for u in scan(listing).utterances] == sorted(paths[:2])


def test_bucketed_batches_cover_everything_and_group_lengths():
    lengths = list(np.random.default_rng(0).integers(1000, 100000, size=37))
    batches = epoch_batches(lengths, 4, seed=1, epoch=0)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(37))
    ranked = {i: r for r, i in enumerate(sorted(range(37), key=lambda i: (lengths[i], i)))}
    for b in batches:  # neighbours in length order
        ranks = sorted(ranked[i] for i in b)
        assert ranks[-1] - ranks[0] == len(b) - 1
    assert batches == epoch_batches(lengths, 4, seed=1, epoch=0)  # a function of (seed, epoch)
    assert batches != epoch_batches(lengths, 4, seed=1, epoch=1)
    assert batches != epoch_batches(lengths, 4, seed=2, epoch=0)


def test_unbucketed_batches_are_shuffled():
    lengths = list(range(100, 140))
    batches = epoch_batches(lengths, 5, seed=0, epoch=0, bucketing=False)
    assert sorted(i for b in batches for i in b) == list(range(40))
    assert any(max(b) - min(b) > 5 for b in batches)


def test_ddp_sharding_is_disjoint_and_even():
    lengths = list(range(1000, 1023))  # 23 utterances, batch 2: 12 batches
    full = epoch_batches(lengths, 2, seed=0, epoch=3)
    shards = [epoch_batches(lengths, 2, seed=0, epoch=3, rank=r, world_size=5) for r in range(5)]
    assert len({len(s) for s in shards}) == 1  # same number of steps on every rank
    assert sum(len(s) for s in shards) == 15  # padded with repeats from the start
    seen = [tuple(b) for s in shards for b in s]
    assert set(seen) == {tuple(b) for b in full}


def test_crops_are_seeded_and_in_range(tmp_path):
    assert crop_offset(100, 200, 0, 0, 0) == 0
    offsets = {crop_offset(10000, 1000, 0, epoch, 5) for epoch in range(20)}
    assert len(offsets) > 1 and all(0 <= o <= 9000 for o in offsets)
    assert crop_offset(10000, 1000, 0, 1, 5) == crop_offset(10000, 1000, 0, 1, 5)
    write_corpus(tmp_path, n=2, min_s=1.5, max_s=1.6)
    corpus = scan(tmp_path)
    waves, failed = BatchDataset(corpus, [[0, 1]], max_samples=8000, seed=0, epoch=0)[0]
    assert not failed and [w.numel() for w in waves] == [8000, 8000]


def test_unreadable_data_at_load_time_is_reported(tmp_path):
    write_corpus(tmp_path, n=2)
    corpus = scan(tmp_path)
    corpus.utterances[1].path.write_bytes(b"corrupted after the scan")
    waves, failed = BatchDataset(corpus, [[0, 1]], max_samples=16000, seed=0, epoch=0)[0]
    assert len(waves) == 1 and len(failed) == 1 and corpus.utterances[1].path.name in failed[0]
