"""Any string from the data becomes one file name that stays in its folder and names nothing else."""

import random
import string

import pytest

from aalbert.safe_names import MAX_NAME_BYTES, file_name, text_of

HOSTILE = [
    "../../../../outside/victim",
    "..",
    ".",
    "",
    "/etc/passwd",
    "C:\\Windows\\x",
    "a\\b",
    "a/b",
    "nul\0byte",
    "line\nbreak",
    " lead and trail ",
    "trailing.",
    ".hidden",
    "CON",
    "con",
    "Con.txt",
    "com1",
    "LPT9.flac",
    "conin$",
    "é",
    "e\u0301",  # the same letter decomposed (macOS normalises names)
    "日本語",
    "\udcff",  # an undecodable byte of a file name (surrogateescape)
    "~",
    "~2f",
    "a+1",
    "A",
    "a",
    "a=b",
    "x" * 300,
    "X" * 300,
    "x" * 299 + "y",
    "é" * 200,
    "~" * 200,
]


def _forbidden(name: str) -> list[str]:
    """What would make ``name`` unsafe as one file name on Linux, macOS or Windows."""
    problems = []
    if not name or name in (".", ".."):
        problems.append("empty or a dot name")
    if any(c in name for c in '/\\:*?"<>|\0') or any(ord(c) < 32 for c in name):
        problems.append("a separator or a character Windows refuses")
    if name.startswith(".") or name.endswith((".", " ")):
        problems.append("hidden or trimmed by Windows")
    if name.split(".")[0].upper() in {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
        f"{d}{i}" for d in ("COM", "LPT") for i in range(10)
    }:
        problems.append("a Windows device name")
    if len(name.encode()) > MAX_NAME_BYTES or not name.isascii():
        problems.append("too long or not ASCII")
    return problems


def _sample() -> list[str]:
    rng = random.Random(0)
    alphabet = string.ascii_letters + string.digits + "-_.~+=/\\ \0\n:*%" + "éÉßΣσς日"
    out = list(HOSTILE)
    for _ in range(20000):
        out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))))
    for _ in range(300):  # long ones, sharing long prefixes
        out.append("p" * 150 + "".join(rng.choice("aAbB/.~") for _ in range(rng.randint(0, 60))))
    return list(dict.fromkeys(out))


def test_ordinary_ids_are_their_own_names():
    for uttid in ("1272-128104-0000", "100-7-0003", "spk1_utt2", "fadg0_si1279", "a.b-c_d"):
        assert file_name(uttid) == uttid


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_strings_give_one_safe_name(text):
    name = file_name(text)
    assert _forbidden(name) == [], (text, name)


def test_names_are_deterministic_injective_and_distinct_after_case_folding():
    texts = _sample()
    names = [file_name(t) for t in texts]
    assert names == [file_name(t) for t in texts]
    assert all(_forbidden(n) == [] for n in names)
    # a case-insensitive file system (macOS, Windows) sees the folded names: still one per text
    assert len({n.lower() for n in names}) == len({n.casefold() for n in names}) == len(texts)
    for text, name in zip(texts, names):
        back = text_of(name)
        assert back == text or (back is None and len(name) == MAX_NAME_BYTES), (text, name)


def test_names_differing_only_in_case_get_different_files_and_upper_case_stays_readable():
    assert file_name("A").lower() != file_name("a").lower()
    assert file_name("FADG0_SI1279").startswith("FADG0_SI1279")
    assert file_name("FADG0_SI1279").lower() != file_name("fadg0_si1279").lower()


def test_long_names_keep_a_readable_prefix_and_a_hash():
    long_id = "speaker-" + "x" * 400
    name = file_name(long_id)
    assert len(name) == MAX_NAME_BYTES and name.startswith("speaker-xxx") and text_of(name) is None
    assert file_name(long_id + "y") != name
    assert len(file_name(long_id, max_bytes=64)) == 64


def test_a_name_in_a_folder_stays_in_it(tmp_path):
    folder = tmp_path / "cache" / "layer_00"
    folder.mkdir(parents=True)
    for text in HOSTILE:
        path = folder / f"{file_name(text)}.pt"
        assert path.resolve().parent == folder.resolve(), text
        path.write_bytes(b"x")  # the operating system agrees it is one file name
    assert sorted(p.parent for p in tmp_path.rglob("*.pt")) == [folder] * len(set(map(file_name, HOSTILE)))
