"""Phone transcripts for CTC (no alignment needed): a phone-sequence file, or words + lexicon.

* Phone-sequence file (``data.transcripts``): ``UTTID PHONE PHONE ...`` per line.
* Words + lexicon (``data.lexicon``), as Kaldi recipes do: the words come from the corpus
  (Kaldi ``text``, LibriSpeech ``*.trans.txt``, Lhotse supervision text); ``lexicon.txt`` has
  ``WORD PHONE PHONE ...`` lines (a pronunciation-probability column after the word, as in
  ``lexiconp.txt``, is skipped); the first pronunciation of a word is used. Every word missing
  from the lexicon is listed in one error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from aalbert.corpus.problems import Problems


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _entries(path: Path, comment: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, whitespace-separated fields) of every line that is not blank or a comment."""
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if parts and not parts[0].startswith(comment):
            yield lineno, parts


def read_phone_transcripts(path: Path, problems: Problems) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for lineno, parts in _entries(path, "#"):
        if len(parts) == 1:
            problems.add(path, f"utterance {parts[0]} has an empty phone transcript", lineno)
        elif parts[0] in out:
            problems.add(path, f"utterance {parts[0]} transcribed twice", lineno)
        else:
            out[parts[0]] = parts[1:]
    return out


def read_lexicon(path: Path, problems: Problems) -> dict[str, list[str]]:
    """word -> first pronunciation (words compared case-insensitively)."""
    lexicon: dict[str, list[str]] = {}
    for lineno, parts in _entries(path, ";;;"):
        pron = parts[2:] if len(parts) > 2 and _is_number(parts[1]) else parts[1:]
        if not pron:
            problems.add(path, f"word {parts[0]} has no pronunciation", lineno)
            continue
        lexicon.setdefault(parts[0].upper(), pron)
    return lexicon


def words_to_phones(
    words_of: dict[str, list[str]], lexicon: dict[str, list[str]], lexicon_path: Path, problems: Problems
) -> dict[str, list[str]]:
    """Phone sequence per utterance; all out-of-vocabulary words reported together."""
    out: dict[str, list[str]] = {}
    oov: Counter[str] = Counter()
    first_use: dict[str, str] = {}
    for uttid, words in words_of.items():
        phones = []
        for word in words:
            pron = lexicon.get(word.upper())
            if pron is None:
                oov[word] += 1
                first_use.setdefault(word, uttid)
            else:
                phones += pron
        out[uttid] = phones
    if oov:
        listed = ", ".join(f"{w} ({n}x, e.g. in {first_use[w]})" for w, n in oov.most_common(50))
        more = f" and {len(oov) - 50} more" if len(oov) > 50 else ""
        problems.add(
            lexicon_path,
            f"{len(oov)} word(s) of the transcripts are not in the lexicon: {listed}{more}; "
            "add them to the lexicon (e.g. with a G2P tool)",
        )
    return out
