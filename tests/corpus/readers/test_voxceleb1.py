"""VoxCeleb1 as distributed: wav/ID/VIDEO/NNNNN.wav, iden_split.txt (SID) and the veri_test lists (SV)."""

from __future__ import annotations

import shutil

import pytest

from aalbert.config import ConfigError
from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.readers.voxceleb1 import held_out_dev
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.errors import MissingFileError
from aalbert.testing.voxceleb import make_voxceleb1, speaker_id

SPEAKERS, VIDEOS, UTTERANCES, TEST_SPEAKERS = 8, 2, 3, 3


@pytest.fixture(scope="module")
def vox(tmp_path_factory):
    root = tmp_path_factory.mktemp("vox1")
    return make_voxceleb1(root, speakers=SPEAKERS, videos=VIDEOS, utterances=UTTERANCES, test_speakers=TEST_SPEAKERS)


def _copy(vox, tmp_path):
    return shutil.copytree(vox, tmp_path / "vox1")


def read(root, **options):
    return read_corpus(CorpusSpec("voxceleb1", [str(root)], options=options, scan_cache=False))


def _lines(path):
    return [line.split() for line in path.read_text().splitlines()]


def test_identification_follows_iden_split(vox):
    listing = read(vox)
    iden = {
        rel[: -len(".wav")]: {"1": "train", "2": "dev", "3": "test"}[split]
        for split, rel in _lines(vox / "iden_split.txt")
    }
    assert len(listing.utterances) == SPEAKERS * VIDEOS * UTTERANCES
    assert listing.partition == iden
    utt = next(u for u in listing.utterances if u.uttid == sorted(iden)[0])
    # the trial lists' spelling, without .wav; the speaker is the first folder
    assert utt.uttid.count("/") == 2 and utt.uttid.startswith(speaker_id(0) + "/")
    assert utt.speaker == speaker_id(0) and utt.path == vox / "wav" / f"{utt.uttid}.wav"
    assert utt.num_samples > 0
    # SID: every speaker in every split
    for split in ("train", "dev", "test"):
        speakers = {u.split("/")[0] for u, s in listing.partition.items() if s == split}
        assert speakers == {speaker_id(i) for i in range(SPEAKERS)}


def test_identification_without_iden_split_leaves_the_split_to_the_task(vox, tmp_path):
    root = _copy(vox, tmp_path)
    (root / "iden_split.txt").unlink()
    listing = read(root)
    assert listing.partition == {} and len(listing.utterances) == SPEAKERS * VIDEOS * UTTERANCES
    with pytest.raises(MissingFileError, match="iden_split not found: .*other.txt"):
        read(root, iden_split="other.txt")


def test_files_iden_split_does_not_list_are_left_out_and_counted(vox, tmp_path):
    root = _copy(vox, tmp_path)
    lines = (root / "iden_split.txt").read_text().splitlines(keepends=True)
    (root / "iden_split.txt").write_text("".join(lines[2:]))
    listing = read(root)
    assert len(listing.utterances) == len(lines) - 2
    assert listing.skipped == {"not listed in iden_split.txt": 2}


def test_verification_tests_the_trial_list_and_trains_every_other_speaker(vox):
    listing = read(vox, protocol="verification")
    trials = _lines(vox / "veri_test2.txt")  # the cleaned list, preferred
    named = {rel[:-4] for _, a, b in trials for rel in (a, b)}
    test_speakers = {speaker_id(i) for i in range(SPEAKERS - TEST_SPEAKERS, SPEAKERS)}
    by_split = {s: {u for u, p in listing.partition.items() if p == s} for s in ("train", "dev", "test")}
    assert by_split["test"] == named
    # the trials travel with the listing (Corpus.trials), as read: label, then the two utterance ids
    assert listing.trials == [(int(label), a[:-4], b[:-4]) for label, a, b in trials]
    speakers = {s: {u.split("/")[0] for u in ids} for s, ids in by_split.items()}
    assert speakers["test"] == test_speakers
    # dev: a seeded set of 2 of the training speakers, disjoint from train: dev EER measures unseen voices
    assert len(speakers["dev"]) == 2
    assert not speakers["dev"] & speakers["train"] and not speakers["test"] & (speakers["train"] | speakers["dev"])
    assert speakers["train"] | speakers["dev"] == {speaker_id(i) for i in range(SPEAKERS - TEST_SPEAKERS)}
    assert set(listing.partition) == {u.uttid for u in listing.utterances}
    # the trial speakers' utterances the list does not name are left out, and counted
    left_out = TEST_SPEAKERS * VIDEOS * UTTERANCES - len(named)
    assert listing.skipped == {"trial speakers' utterances not in veri_test2.txt": left_out}


def test_the_held_out_dev_speakers_follow_the_seed(vox):
    dev = {
        seed: {
            u.split("/")[0] for u, p in read(vox, protocol="verification", seed=seed).partition.items() if p == "dev"
        }
        for seed in range(4)
    }
    assert dev[0] == {u.split("/")[0] for u, p in read(vox, protocol="verification").partition.items() if p == "dev"}
    assert len({frozenset(d) for d in dev.values()}) > 1  # 10 possible pairs: 4 seeds do not all agree
    assert len(held_out_dev({f"s{i}" for i in range(50)}, 0.1, 0)) == 5
    with pytest.raises(Exception, match="at least 3 speakers"):
        held_out_dev({"a", "b"}, 0.1, 0)


def test_the_trials_option_picks_the_list(vox):
    listing = read(vox, protocol="verification", trials="veri_test.txt")
    named = {rel[:-4] for _, a, b in _lines(vox / "veri_test.txt") for rel in (a, b)}
    assert {u for u, p in listing.partition.items() if p == "test"} == named


def test_trial_and_split_lines_naming_missing_files_are_reported_with_their_lines(vox, tmp_path):
    root = _copy(vox, tmp_path)
    gone = _lines(root / "veri_test2.txt")[3][2]
    (root / "wav" / gone).unlink()
    with open(root / "veri_test2.txt", "a") as f:
        f.write("1 id10001/only_one_path.wav\n")
        f.write("2 id10001/a/00001.wav id10001/a/00002.wav\n")
    trials = _lines(root / "veri_test2.txt")
    lines = [n for n, (_, a, b, *rest) in enumerate(trials[:-2], 1) if gone in (a, b)]
    with pytest.raises(CorpusValidationError) as err:
        read(root, protocol="verification")
    text = str(err.value)
    for n in lines:
        assert f"veri_test2.txt:{n}: names {gone}, not in the corpus's wav/ folder" in text
    assert f"veri_test2.txt:{len(trials) - 1}: expected 'LABEL RELPATH1 RELPATH2'" in text
    assert f"veri_test2.txt:{len(trials)}: expected 'LABEL RELPATH1 RELPATH2' with LABEL 1 or 0" in text
    # iden_split.txt too (identification), every line at once
    iden = [rel for _, rel in _lines(root / "iden_split.txt")]
    with pytest.raises(CorpusValidationError, match=rf"iden_split.txt:{iden.index(gone) + 1}: names {gone}"):
        read(root)


def test_verification_without_a_trial_list_is_an_error(vox, tmp_path):
    root = _copy(vox, tmp_path)
    (root / "veri_test.txt").unlink()
    assert read(root, protocol="verification").partition  # veri_test2.txt alone is enough
    (root / "veri_test2.txt").unlink()
    with pytest.raises(MissingFileError, match="no trial list"):
        read(root, protocol="verification")


def test_s3prls_dev_and_test_folders_are_read_too(vox, tmp_path):
    # the two archives unpacked side by side, as s3prl's recipes expect: ROOT/dev/wav, ROOT/test/wav
    root = tmp_path / "split_layout"
    test_speakers = {speaker_id(i) for i in range(SPEAKERS - TEST_SPEAKERS, SPEAKERS)}
    for spk_dir in (vox / "wav").iterdir():
        part = "test" if spk_dir.name in test_speakers else "dev"
        shutil.copytree(spk_dir, root / part / "wav" / spk_dir.name)
    for name in ("iden_split.txt", "veri_test.txt", "veri_test2.txt"):
        shutil.copy(vox / name, root / name)
    assert read(root).partition == read(vox).partition
    assert read(root, protocol="verification").partition == read(vox, protocol="verification").partition


def test_unknown_options_and_bad_values_are_config_errors(vox):
    with pytest.raises(ConfigError, match="protocl"):
        read(vox, protocl="verification")
    with pytest.raises(ConfigError, match="protocol"):
        read(vox, protocol="diarization")
    with pytest.raises(ConfigError, match="dev_speakers"):
        read(vox, protocol="verification", dev_speakers=1.5)


def test_files_outside_the_layout_are_reported(vox, tmp_path):
    root = _copy(vox, tmp_path)
    stray = root / "wav" / speaker_id(0) / "stray.wav"
    shutil.copy(next((root / "wav").rglob("*.wav")), stray)
    with pytest.raises(CorpusValidationError, match=r"stray.wav: expected .*/ID/VIDEO/NNNNN.wav"):
        read(root)


def test_speaker_metadata_from_vox1_meta(vox, tmp_path):
    root = _copy(vox, tmp_path)
    (root / "vox1_meta.csv").write_text(
        "VoxCeleb1 ID\tVGGFace1 ID\tGender\tNationality\tSet\n"
        + "".join(f"{speaker_id(i)}\tName_{i}\t{'mf'[i % 2]}\tIreland\tdev\n" for i in range(SPEAKERS))
    )
    assert read(root).speaker_info[speaker_id(1)] == {"gender": "f", "nationality": "Ireland"}
