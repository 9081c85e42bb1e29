"""Speech Commands (v0.01 and v0.02) as distributed, read for keyword spotting as SUPERB does.

``ROOT/WORD/SPEAKERHASH_nohash_N.wav`` (1 s or less, 16 kHz); ``validation_list.txt`` and
``testing_list.txt`` list relative paths of the dev and test files (whole speakers: the corpus
splits by a hash of the speaker), every other file is train; ``_background_noise_/`` holds long
noise recordings. Each utterance's ``info["keyword"]`` is its word when the word is a keyword
(``data.options.keywords``, SUPERB's ten by default), ``_unknown_`` for every other word, and
``_silence_`` for 1 s crops of the noise recordings; ``info["word"]`` keeps the folder's word.

SUPERB (s3prl's ``speech_commands``) adds one entry per noise recording to train and dev and crops
it afresh at each draw, sampling its 12 classes evenly. A listing is fixed, so the crops are
drawn here, seeded: by default each split gets as many ``_silence_`` utterances as its keywords
have on average (the share SUPERB's even sampling gives the class), taken from a part of each
recording of its own (the first 80% for train, then 10% for dev and 10% for test), so no noise
heard in training is tested. With ``data.options.test_root`` (the separate
``speech_commands_test_set_v0.01`` archive, already in 12 class folders) that archive is the
test split, as in SUPERB, and the files of ``testing_list.txt`` are left out (counted).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.errors import BadInputError, MissingFileError

from ..bad_audio import checked_listing
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance

FORMAT = "speech_commands"
SUPERB_KEYWORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go")
SILENCE, UNKNOWN = "_silence_", "_unknown_"
NOISE_FOLDER = "_background_noise_"
LISTS = {"dev": "validation_list.txt", "test": "testing_list.txt"}
# which part of every noise recording each split's _silence_ crops come from (fractions of its length)
NOISE_PARTS = {"train": (0.0, 0.8), "dev": (0.8, 0.9), "test": (0.9, 1.0)}
TEST_SET_PREFIX = "_test_set_"  # utterance ids of the test archive: apart from the main archive's copies
LEFT_OUT_TEST = f"in {LISTS['test']} (the test split is data.options.test_root, as in SUPERB)"


@dataclass
class Options:
    """``data.options`` of the speech_commands reader."""

    keywords: list[str] = field(default_factory=lambda: list(SUPERB_KEYWORDS))  # every other word: _unknown_
    # the speech_commands_test_set_v0.01 folder (relative to the corpus root, or absolute): the test split
    test_root: str | None = None
    # _silence_ utterances per split; null: as many as the split's keywords have on average
    silence_utterances: int | None = None
    silence_seconds: float = 1.0  # length of each crop (SUPERB: 1 s)
    silence_seed: int = 0  # where the crops fall; the same seed gives the same crops

    def __post_init__(self):
        special = sorted({SILENCE, UNKNOWN} & set(self.keywords))
        if special:
            raise BadInputError(f"keywords may not name the classes {', '.join(special)}: they are made by the reader")
        if not self.keywords or len(set(self.keywords)) != len(self.keywords):
            raise BadInputError(f"keywords must be a non-empty list without repeats, got {self.keywords}")
        if self.silence_utterances is not None and self.silence_utterances < 0:
            raise BadInputError(f"silence_utterances must be >= 0 (or null), got {self.silence_utterances}")
        if self.silence_seconds <= 0:
            raise BadInputError(f"silence_seconds must be > 0, got {self.silence_seconds}")


def keyword_of(word: str, keywords: list[str] | tuple[str, ...]) -> str:
    """The class of a word's folder: the word itself for a keyword, else ``_unknown_``."""
    return word if word in keywords or word == SILENCE else UNKNOWN


def speaker_of(path: Path) -> str:
    """``HASH`` of ``[WORD_]HASH_nohash_N.wav``; a file named otherwise is a speaker of its own."""
    before, found, _ = path.stem.partition("_nohash_")
    return before.rsplit("_", 1)[-1] if found else path.stem


def _wavs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() == ".wav")


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _read_lists(root: Path, problems: Problems) -> dict[str, tuple[str, str]]:
    """Relative path -> (split, "list:line") of every file the two lists name; a listed file that
    is missing, or a file in both lists, goes to ``problems``."""
    listed: dict[str, tuple[str, str]] = {}
    for split, name in LISTS.items():
        path = root / name
        if not path.is_file():
            raise MissingFileError(
                f"{path} not found: a Speech Commands root holds {LISTS['dev']} and {LISTS['test']} "
                "(every file they do not list is train)"
            )
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            rel = line.strip().replace("\\", "/")
            if not rel:
                continue
            if rel in listed:
                problems.add(path, f"{rel} is also listed at {listed[rel][1]}", lineno)
            elif not (root / rel).is_file():
                problems.add(path, f"listed file not found: {root / rel}", lineno)
            else:
                listed[rel] = (split, f"{path}:{lineno}")
    return listed


def read(spec: CorpusSpec) -> CorpusListing:
    options = spec.reader_options(Options)
    if len(spec.roots) != 1:
        raise BadInputError(
            f"the {FORMAT} reader reads one corpus root, got {len(spec.roots)}: {', '.join(spec.roots)}"
        )
    root = Path(spec.roots[0])
    if not root.is_dir():
        raise MissingFileError(f"Speech Commands root not found: {root}")
    test_root = root / options.test_root if options.test_root else None
    if test_root is not None and not test_root.is_dir():
        raise MissingFileError(
            f"data.options.test_root not found: {test_root} (the speech_commands_test_set_v0.01 folder; "
            "data.options.test_root=null tests on testing_list.txt)"
        )
    problems = Problems(f"the Speech Commands corpus {root}", spec.bad_audio == "skip")
    cache = AudioInfoCache(
        FORMAT, [root] + ([test_root] if test_root else []), spec.scan_cache, spec.audio_check_workers
    )
    listed = _read_lists(root, problems)
    words = [p for p in _folders(root) if p.name != NOISE_FOLDER]
    _check_keywords(options.keywords, {p.name for p in words}, root, problems)
    found = [(folder.name, wav) for folder in words for wav in _wavs(folder)]
    if test_root is not None:
        found += [(folder.name, wav) for folder in _folders(test_root) for wav in _wavs(folder)]
    cache.prefetch(wav for _, wav in found)  # headers and decoding of new files, in parallel
    utterances: list[Utterance] = []
    partition: dict[str, str] = {}
    left_out = 0
    for word, wav in found:
        if test_root is not None and wav.is_relative_to(test_root):
            uttid, split, source = f"{TEST_SET_PREFIX}/{word}/{wav.stem}", "test", str(wav)
        else:
            rel = f"{word}/{wav.name}"
            split, source = listed.get(rel, ("train", str(wav)))
            if split == "test" and test_root is not None:
                left_out += 1
                continue
            uttid = f"{word}/{wav.stem}"
        num_samples = cache.usable_samples(wav, problems, uttid)
        if num_samples is None:
            continue
        utt = Utterance(uttid, wav, speaker_of(wav), num_samples=num_samples, source=source)
        utt.info = {"keyword": keyword_of(word, options.keywords), "word": word}
        utterances.append(utt)
        partition[uttid] = split
    splits = ("train", "dev") if test_root is not None else ("train", "dev", "test")
    for utt, split in _silence(root, splits, utterances, partition, options, cache, problems):
        utterances.append(utt)
        partition[utt.uttid] = split
    listing = checked_listing(FORMAT, [root], utterances, cache, spec, problems, f"the Speech Commands corpus {root}")
    listing.partition = {u.uttid: partition[u.uttid] for u in listing.utterances}
    listing.skipped = {LEFT_OUT_TEST: left_out} if test_root is not None else {}
    return listing


def _check_keywords(keywords: list[str], words: set[str], root: Path, problems: Problems) -> None:
    for keyword in keywords:
        if keyword not in words:  # a typo would otherwise make a class no utterance has
            problems.add(root, f"keyword {keyword!r} has no folder (words: {', '.join(sorted(words))})")


def _silence_counts(
    splits: tuple[str, ...], utterances: list[Utterance], partition: dict[str, str], options: Options
) -> dict[str, int]:
    if options.silence_utterances is not None:
        return {split: options.silence_utterances for split in splits}
    counts = {split: 0 for split in splits}
    for utt in utterances:
        split = partition[utt.uttid]
        if split in counts and utt.info["keyword"] in options.keywords:
            counts[split] += 1
    return {split: round(n / len(options.keywords)) for split, n in counts.items()}


def _silence(
    root: Path,
    splits: tuple[str, ...],
    utterances: list[Utterance],
    partition: dict[str, str],
    options: Options,
    cache: AudioInfoCache,
    problems: Problems,
) -> list[tuple[Utterance, str]]:
    """The ``_silence_`` crops of each split, spread over the noise recordings in turn."""
    counts = _silence_counts(splits, utterances, partition, options)
    if not any(counts.values()):
        return []
    folder = root / NOISE_FOLDER
    noises = _wavs(folder) if folder.is_dir() else []
    if not noises:
        problems.add(folder, f"no noise recordings (.wav) to crop the {SILENCE} class from")
        return []
    cache.prefetch(noises)
    lengths = {p: n for p in noises if (n := cache.usable_samples(p, problems)) is not None}
    crop = round(options.silence_seconds * SAMPLE_RATE)
    out = []
    for split in splits:
        low, high = NOISE_PARTS[split]
        # the part of each recording this split crops from: (file, first sample, last start)
        parts = [
            (p, int(n * low), int(n * high) - crop) for p, n in lengths.items() if int(n * high) - int(n * low) >= crop
        ]
        if counts[split] and not parts:
            problems.add(
                folder,
                f"no recording is long enough for {options.silence_seconds:g} s {SILENCE} crops of the {split} "
                f"split (it takes {low:.0%}-{high:.0%} of each recording)",
            )
            continue
        rng = random.Random(f"{options.silence_seed}:{split}")
        for k in range(counts[split] if parts else 0):
            path, first, last = parts[k % len(parts)]
            start = rng.randint(first, last)
            utt = Utterance(
                f"{SILENCE}/{path.stem}-{split}-{k:05d}",
                path,
                f"{NOISE_FOLDER}.{path.stem}.{split}",  # the crops of one split of a recording: a "speaker"
                start=start,
                num_samples=crop,
                source=str(path),
            )
            utt.info = {"keyword": SILENCE, "word": SILENCE}
            out.append((utt, split))
    return out
