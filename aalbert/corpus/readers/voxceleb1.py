"""VoxCeleb1 as distributed: ``ROOT/wav/ID/VIDEO/NNNNN.wav``, with its identification split and verification trials.

The utterance id is the file's path under ``wav/`` without ``.wav`` (``id10001/1zcIwhmdeo4/00001``: how
the split and trial lists spell it, minus the suffix); the speaker is ``ID``. The audio may also lie in
``ROOT/dev/wav`` and ``ROOT/test/wav`` (the two archives unpacked side by side, as s3prl expects).
``ROOT/vox1_meta.csv``, when present, gives each speaker's gender and nationality (``speaker.gender``).

Two protocols (``data.options.protocol``), each giving the listing's ``partition``:

* ``identification`` (SUPERB SID, 1,251 speakers): ``iden_split.txt`` (``SPLIT RELPATH``: 1 train, 2 dev,
  3 test) is the split; files it does not list are left out and counted. Without the file (a copy of
  part of the corpus) there is no partition and the task splits the corpus itself.
* ``verification`` (SUPERB SV): the trial list (``veri_test2.txt``, the cleaned list, else
  ``veri_test.txt``: ``LABEL RELPATH1 RELPATH2``, 1 = same speaker) names the test utterances; every
  other speaker trains, and a seeded share of those speakers (``dev_speakers``) is held out as dev,
  so dev, like test, measures voices never trained on. Utterances of trial speakers the list does
  not name are left out and counted. ``listing.trials`` holds the trials (``Corpus.trials`` for the task).

A list line naming a file the corpus does not have, or that is malformed, is reported with its
file and line, every one at once, before anything is trained.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from aalbert.errors import BadInputError, MissingFileError

from ..bad_audio import checked_listing
from ..problems import Problems
from ..scan_cache import AudioInfoCache
from ..spec import CorpusSpec
from ..utterance import CorpusListing, Utterance
from ..walk import walk_files

FORMAT = "voxceleb1"
IDEN_SPLITS = {"1": "train", "2": "dev", "3": "test"}
TRIAL_LISTS = ("veri_test2.txt", "veri_test.txt")  # the cleaned list first
Trial = tuple[int, str, str]  # (1 same speaker / 0 not, uttid, uttid)


@dataclass
class Options:
    """``data.options`` of the voxceleb1 reader; paths are relative to the corpus root."""

    protocol: Literal["identification", "verification"] = "identification"
    iden_split: str | None = None  # default ROOT/iden_split.txt
    trials: str | None = None  # default ROOT/veri_test2.txt, else ROOT/veri_test.txt
    dev_speakers: float = 0.1  # verification: share of the training speakers held out as dev (at least 2)
    seed: int = 0  # verification: which training speakers are held out

    def __post_init__(self):
        if self.protocol not in ("identification", "verification"):
            raise BadInputError(f"voxceleb1 protocol must be identification or verification, got {self.protocol!r}")
        if not 0 < self.dev_speakers < 1:
            raise BadInputError(f"voxceleb1 dev_speakers must be a share between 0 and 1, got {self.dev_speakers}")


def uttid_of(relpath: str) -> str:
    """``id10001/1zcIwhmdeo4/00001.wav`` -> ``id10001/1zcIwhmdeo4/00001``."""
    return relpath[:-4] if relpath.lower().endswith(".wav") else relpath


def audio_folders(roots: list[Path]) -> list[Path]:
    folders = []
    for root in roots:
        if not root.is_dir():
            raise MissingFileError(f"corpus root not found: {root}")
        found = [root / "wav"] if (root / "wav").is_dir() else []
        found += sorted(p for p in root.glob("*/wav") if p.is_dir())
        if not found:
            raise MissingFileError(
                f"{root} has no wav/ folder (VoxCeleb1: ROOT/wav/ID/VIDEO/NNNNN.wav, or ROOT/dev/wav and ROOT/test/wav)"
            )
        folders += found
    return folders


def read_trials(path: Path, known: set[str], problems: Problems) -> list[Trial]:
    """``LABEL RELPATH1 RELPATH2`` lines; a malformed line or one naming a file not in ``known``
    (utterance ids) goes to ``problems`` with its line."""
    trials = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or fields[0] not in ("0", "1"):
            problems.add(path, f"expected 'LABEL RELPATH1 RELPATH2' with LABEL 1 or 0, got {line.strip()!r}", lineno)
            continue
        missing = [rel for rel in fields[1:] if uttid_of(rel) not in known]
        if missing:
            problems.add(path, f"names {', '.join(missing)}, not in the corpus's wav/ folder", lineno)
            continue
        trials.append((int(fields[0]), uttid_of(fields[1]), uttid_of(fields[2])))
    return trials


def read_iden_split(path: Path, known: set[str], problems: Problems) -> dict[str, str]:
    """``SPLIT RELPATH`` lines (1 train, 2 dev, 3 test) -> {uttid: split}."""
    partition: dict[str, str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[0] not in IDEN_SPLITS:
            problems.add(path, f"expected 'SPLIT RELPATH' with SPLIT 1, 2 or 3, got {line.strip()!r}", lineno)
        elif uttid_of(fields[1]) not in known:
            problems.add(path, f"names {fields[1]}, not in the corpus's wav/ folder", lineno)
        else:
            partition[uttid_of(fields[1])] = IDEN_SPLITS[fields[0]]
    return partition


def read_meta(path: Path) -> dict[str, dict[str, str]]:
    """``vox1_meta.csv``: ``VoxCeleb1 ID<TAB>VGGFace1 ID<TAB>Gender<TAB>Nationality<TAB>Set`` after a header."""
    info = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[1:]:
        fields = [f.strip() for f in line.split("\t")]
        if len(fields) >= 4 and fields[0]:
            info[fields[0]] = {"gender": fields[2].lower(), "nationality": fields[3]}
    return info


def _list_file(root: Path, given: str | None, defaults: tuple[str, ...], what: str) -> Path | None:
    if given is not None:
        path = Path(given) if Path(given).is_absolute() else root / given
        if not path.is_file():
            raise MissingFileError(f"voxceleb1 {what} not found: {path}")
        return path
    return next((root / name for name in defaults if (root / name).is_file()), None)


def held_out_dev(speakers: set[str], share: float, seed: int) -> set[str]:
    """A seeded ``share`` of ``speakers`` (at least 2, so dev has different-speaker trials; at least one left)."""
    order = sorted(speakers)
    random.Random(f"voxceleb1-dev:{seed}").shuffle(order)
    n_dev = max(2, round(len(order) * share))
    if len(order) - n_dev < 1:
        raise BadInputError(
            f"voxceleb1 verification needs at least 3 speakers outside the trial list (train and a dev of 2), "
            f"the corpus has {len(order)}"
        )
    return set(order[:n_dev])


def read(spec: CorpusSpec) -> CorpusListing:
    options = spec.reader_options(Options)
    roots = [Path(r) for r in spec.roots]
    what = f"the VoxCeleb1 corpus {', '.join(spec.roots)}"
    problems = Problems(what, spec.bad_audio == "skip")
    folders = audio_folders(roots)
    cache = AudioInfoCache(FORMAT, [str(f) for f in folders], spec.scan_cache, spec.audio_check_workers)
    found: dict[str, Path] = {}
    for folder in folders:
        for path, _ in walk_files(folder, (".wav",)):
            parts = path.relative_to(folder).parts
            uttid = uttid_of("/".join(parts))
            if len(parts) != 3:
                problems.add(path, f"expected {folder}/ID/VIDEO/NNNNN.wav")
            elif uttid in found:
                problems.add(path, f"utterance {uttid} appears twice (also {found[uttid]})")
            else:
                found[uttid] = path
    known = set(found)
    partition: dict[str, str] = {}
    trials: list[Trial] = []
    skipped: dict[str, int] = {}
    if options.protocol == "identification":
        iden = _list_file(roots[0], options.iden_split, ("iden_split.txt",), "iden_split")
        if iden is not None:
            partition = read_iden_split(iden, known, problems)
            unlisted = known - set(partition)
            skipped[f"not listed in {iden.name}"] = len(unlisted)
            known -= unlisted
    else:
        listed = _list_file(roots[0], options.trials, TRIAL_LISTS, "trial list")
        if listed is None:
            raise MissingFileError(f"voxceleb1 verification: no trial list ({' or '.join(TRIAL_LISTS)}) in {roots[0]}")
        trials = read_trials(listed, known, problems)
        test = {u for _, a, b in trials for u in (a, b)}
        test_speakers = {u.split("/")[0] for u in test}
        outside = {u for u in known - test if u.split("/")[0] in test_speakers}
        skipped[f"trial speakers' utterances not in {listed.name}"] = len(outside)
        known -= outside
        train_speakers = {u.split("/")[0] for u in known - test}
        if not problems:  # the speakers are only meaningful when every trial line was read
            dev = held_out_dev(train_speakers, options.dev_speakers, options.seed)
            partition = {u: "test" if u in test else "dev" if u.split("/")[0] in dev else "train" for u in known}
    cache.prefetch(found[u] for u in sorted(known))
    utterances = []
    for uttid in sorted(known):
        samples = cache.usable_samples(found[uttid], problems, uttid)
        if samples is not None:
            speaker = uttid.split("/")[0]
            utterances.append(Utterance(uttid, found[uttid], speaker, num_samples=samples, source=str(found[uttid])))
    listing = checked_listing(
        FORMAT, roots, utterances, cache, spec, problems, what, partition=partition, skipped=skipped
    )
    if (roots[0] / "vox1_meta.csv").is_file():
        listing.speaker_info.update(read_meta(roots[0] / "vox1_meta.csv"))
    listing.trials = trials
    return listing
