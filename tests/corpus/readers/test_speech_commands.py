"""The speech_commands reader on a generated corpus in the release's layout (aalbert.testing)."""

import shutil
from collections import Counter

import pytest
import soundfile

from aalbert.config import ConfigError
from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.readers.speech_commands import NOISE_PARTS, SUPERB_KEYWORDS, read
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.corpus.utterance import load_utterance_audio
from aalbert.errors import BadInputError, MissingFileError
from aalbert.testing.speech_commands import make_speech_commands, speaker_hash, speaker_split

CLASSES = sorted([*SUPERB_KEYWORDS, "_silence_", "_unknown_"])


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """10 speakers x 12 words (the ten keywords, bed, cat), and the v0.01 test archive beside it."""
    folder = tmp_path_factory.mktemp("speech_commands")
    make_speech_commands(folder / "sc", test_set_root=folder / "speech_commands_test_set_v0.01")
    return folder


@pytest.fixture
def copy(corpus, tmp_path):
    """A copy of the main archive to break."""
    return shutil.copytree(corpus / "sc", tmp_path / "sc")


def _read(root, **options):
    return read_corpus(CorpusSpec("speech_commands", [str(root)], options=options))


def _by_split(listing):
    out = {}
    for utt in listing.utterances:
        out.setdefault(listing.partition[utt.uttid], []).append(utt)
    return out


def test_words_keywords_speakers_and_the_lists_partition(corpus):
    listing = _read(corpus / "sc")
    words = [u for u in listing.utterances if u.info["word"] != "_silence_"]
    assert len(words) == 120 and len({u.uttid for u in listing.utterances}) == len(listing.utterances)
    assert {u.info["keyword"] for u in listing.utterances} == set(CLASSES)
    for utt in words:
        word = utt.path.parent.name
        assert utt.uttid == f"{word}/{utt.path.stem}" and utt.info["word"] == word
        assert utt.info["keyword"] == (word if word in SUPERB_KEYWORDS else "_unknown_")
        assert utt.speaker == utt.path.stem.split("_nohash_")[0]
        assert utt.num_samples == soundfile.info(utt.path).frames  # a file shorter than 1 s is kept as it is
    assert {u.num_samples for u in words} == {16000, 12000}
    dev = (corpus / "sc" / "validation_list.txt").read_text().split()
    test = (corpus / "sc" / "testing_list.txt").read_text().split()
    splits = _by_split(listing)
    for split, listed in (("dev", dev), ("test", test)):
        assert sorted(u.uttid + ".wav" for u in splits[split] if u.info["word"] != "_silence_") == sorted(listed)
    hashes = {split: {u.speaker for u in utts if u.info["word"] != "_silence_"} for split, utts in splits.items()}
    expected = {split: {speaker_hash(s) for s in range(10) if speaker_split(s) == split} for split in hashes}
    assert hashes == expected and len(hashes["train"]) == 6  # whole speakers, as in the lists
    assert listing.skipped == {}


def test_silence_crops_per_split_from_their_own_part_of_the_noise(corpus):
    listing = _read(corpus / "sc")
    splits = _by_split(listing)
    for split, utts in splits.items():
        counts = Counter(u.info["keyword"] for u in utts)
        # as many as a keyword of the split has: SUPERB samples its 12 classes evenly
        assert counts["_silence_"] == counts["yes"] == {"train": 6, "dev": 2, "test": 2}[split]
        low, high = NOISE_PARTS[split]
        for utt in (u for u in utts if u.info["keyword"] == "_silence_"):
            total = soundfile.info(utt.path).frames
            assert utt.path.parent.name == "_background_noise_" and utt.num_samples == 16000
            assert int(total * low) <= utt.start and utt.start + utt.num_samples <= int(total * high)
            assert utt.uttid.startswith(f"_silence_/{utt.path.stem}-{split}-")
            assert utt.speaker.endswith(f".{split}")  # no "speaker" in two splits
            wave = load_utterance_audio(utt)
            whole, _ = soundfile.read(utt.path, dtype="float32")
            assert wave.shape == (16000,) and abs(wave.numpy() - whole[utt.start : utt.start + 16000]).max() < 1e-6
    crops = [(u.uttid, u.start) for u in listing.utterances if u.info["keyword"] == "_silence_"]
    assert len({p for _, p in crops}) == len(crops)
    assert crops == [(u.uttid, u.start) for u in _read(corpus / "sc").utterances if u.info["keyword"] == "_silence_"]
    reseeded = [(u.uttid, u.start) for u in _read(corpus / "sc", silence_seed=1).utterances if u.uttid in dict(crops)]
    assert [i for i, _ in reseeded] == [i for i, _ in crops] and reseeded != crops  # same ids, other places
    fixed = _by_split(_read(corpus / "sc", silence_utterances=5, silence_seconds=0.5))
    for utts in fixed.values():
        crops_here = [u for u in utts if u.info["keyword"] == "_silence_"]
        assert len(crops_here) == 5 and {u.num_samples for u in crops_here} == {8000}
    assert "_silence_" not in {u.info["keyword"] for u in _read(corpus / "sc", silence_utterances=0).utterances}


def test_the_v001_test_archive_is_the_test_split(corpus):
    listing = _read(corpus / "sc", test_root=str(corpus / "speech_commands_test_set_v0.01"))
    splits = _by_split(listing)
    test = splits["test"]
    assert Counter(u.info["keyword"] for u in test) == Counter({c: 10 for c in CLASSES})
    assert all(u.uttid == f"_test_set_/{u.path.parent.name}/{u.path.stem}" for u in test)
    assert all(u.path.parent.parent.name == "speech_commands_test_set_v0.01" for u in test)  # no crops of the noise
    assert {u.speaker for u in test}.isdisjoint({u.speaker for u in splits["train"]})
    # the files of testing_list.txt are left out, and counted
    listed = (corpus / "sc" / "testing_list.txt").read_text().split()
    assert list(listing.skipped.values()) == [len(listed)] and "testing_list.txt" in next(iter(listing.skipped))
    assert len(splits["train"]) == 72 + 6 and len(splits["dev"]) == 24 + 2
    relative = _read(corpus / "sc", test_root="../speech_commands_test_set_v0.01")  # from the corpus root
    assert sorted(u.uttid for u in relative.utterances) == sorted(u.uttid for u in listing.utterances)


def test_other_keywords_make_the_rest_unknown(corpus):
    listing = _read(corpus / "sc", keywords=["yes", "bed"], test_root=str(corpus / "speech_commands_test_set_v0.01"))
    keywords = Counter((listing.partition[u.uttid], u.info["keyword"]) for u in listing.utterances)
    assert {k for _, k in keywords} == {"yes", "bed", "_unknown_", "_silence_"}
    assert keywords[("test", "_unknown_")] == 100  # the test archive's folders of the 9 other words and _unknown_
    assert keywords[("train", "_silence_")] == 6  # the average of yes and bed in train
    up = next(u for u in listing.utterances if u.info["word"] == "up")
    assert up.info["keyword"] == "_unknown_"


def test_an_option_typo_names_the_reader(corpus):
    with pytest.raises(ConfigError, match="speech_commands reader.*keyword"):
        _read(corpus / "sc", keyword=["yes"])
    with pytest.raises(ConfigError, match="speech_commands reader"):  # the reader itself, called directly
        read(CorpusSpec("speech_commands", [str(corpus / "sc")], options={"silence": 3}))
    with pytest.raises(ConfigError, match="keywords may not name the classes _silence_"):
        _read(corpus / "sc", keywords=["yes", "_silence_"])
    with pytest.raises(CorpusValidationError, match="keyword 'yess' has no folder"):
        _read(corpus / "sc", keywords=["yess", "no"])


def test_problems_name_their_file(copy, tmp_path):
    listed = (copy / "validation_list.txt").read_text().split()
    (copy / listed[2]).unlink()
    with pytest.raises(CorpusValidationError) as err:
        _read(copy)
    assert f"{copy / 'validation_list.txt'}:3: listed file not found: {copy / listed[2]}" in err.value.problems
    (copy / "validation_list.txt").write_text("\n".join(listed[:2] + listed[3:]) + "\n")
    shutil.rmtree(copy / "_background_noise_")
    with pytest.raises(CorpusValidationError, match="_background_noise_: no noise recordings"):
        _read(copy)
    assert len(_read(copy, silence_utterances=0).utterances) == 119  # no silence asked for: none needed
    (copy / "testing_list.txt").unlink()
    with pytest.raises(MissingFileError, match="testing_list.txt not found"):
        _read(copy)
    with pytest.raises(MissingFileError, match="test_root not found"):
        _read(copy, test_root="nowhere")
    with pytest.raises(BadInputError, match="one corpus root"):
        read_corpus(CorpusSpec("speech_commands", [str(copy), str(tmp_path)]))


def test_noise_too_short_for_a_split_is_reported(copy):
    for wav in (copy / "_background_noise_").glob("*.wav"):
        wave, rate = soundfile.read(wav)
        soundfile.write(wav, wave[: 5 * rate], rate)  # 10% of 5 s: too short for a 1 s dev crop
    with pytest.raises(CorpusValidationError, match="long enough for 1 s _silence_ crops of the dev split"):
        _read(copy)
