"""Folding eSpeak NG's en-us phoneme mnemonics to the 39 ARPAbet phones (CMUdict set) + ``sil``.

Every name eSpeak produced while speaking all of /usr/share/dict/words (wamerican) is listed;
an unlisted name is an error, so a new eSpeak version cannot slip unknown labels in silently.
r-coloured vowels (``A@`` "start", ``O@`` "north", ...) are one eSpeak phoneme and stay one
segment, labelled with their vowel (a forced aligner would split off an R we cannot time).
"""

from __future__ import annotations

from .errors import CorpusError

SILENCE = "sil"
ARPABET = (
    "AA",
    "AE",
    "AH",
    "AO",
    "AW",
    "AY",
    "B",
    "CH",
    "D",
    "DH",
    "EH",
    "ER",
    "EY",
    "F",
    "G",
    "HH",
    "IH",
    "IY",
    "JH",
    "K",
    "L",
    "M",
    "N",
    "NG",
    "OW",
    "OY",
    "P",
    "R",
    "S",
    "SH",
    "T",
    "TH",
    "UH",
    "UW",
    "V",
    "W",
    "Y",
    "Z",
    "ZH",
)
# Fixed ids (independent of which phones a corpus happens to use): sil = 0, then ARPAbet sorted.
PHONES = (SILENCE,) + ARPABET
PHONE_ID = {name: i for i, name in enumerate(PHONES)}

# eSpeak marks that belong to the phone before them (palatalisation ";"), not phones themselves.
MERGE_WITH_PREVIOUS = frozenset({";"})

ESPEAK_TO_ARPABET = {
    # vowels
    "0": "AA",
    "A:": "AA",
    "A~": "AA",
    "A@": "AA",
    "aa": "AE",
    "a": "AE",
    "a#": "AH",
    "@": "AH",
    "@-": "AH",
    "@2": "AH",
    "@5": "AH",
    "V": "AH",
    "3": "ER",
    "3:": "ER",
    "E": "EH",
    "e": "EH",
    "e@": "EH",
    "eI": "EY",
    "I": "IH",
    "I#": "IH",
    "I2": "IH",
    "i": "IY",
    "i:": "IY",
    "i@": "IY",
    "i@3": "IY",
    "O": "AO",
    "O:": "AO",
    "O2": "AO",
    "O@": "AO",
    "O~": "AO",
    "o@": "AO",
    "oU": "OW",
    "OI": "OY",
    "U": "UH",
    "U@": "UH",
    "u:": "UW",
    "aI": "AY",
    "aI@": "AY",
    "aI3": "AY",
    "aU": "AW",
    "aU@": "AW",
    # syllabic consonants fold to the consonant (as TIMIT's el/en do)
    "@L": "L",
    "l#": "L",
    "n-": "N",
    "m-": "M",
    # consonants
    "b": "B",
    "d": "D",
    "f": "F",
    "g": "G",
    "h": "HH",
    "j": "Y",
    "k": "K",
    "l": "L",
    "m": "M",
    "n": "N",
    "N": "NG",
    "p": "P",
    "r": "R",
    "r-": "R",
    "s": "S",
    "S": "SH",
    "t": "T",
    "t#": "T",
    "t2": "T",
    "d#": "D",
    "T": "TH",
    "D": "DH",
    "v": "V",
    "w": "W",
    "z": "Z",
    "Z": "ZH",
    "tS": "CH",
    "dZ": "JH",
    "x": "K",
    # glottal stop: no ARPAbet phone; CMUdict writes T where eSpeak glottalises
    "?": "T",
}

# Stops and affricates: eSpeak times them at the burst, after a closure of digital silence.
STOPS = frozenset({"P", "T", "K", "B", "D", "G", "CH", "JH"})


def is_pause(name: str) -> bool:
    """eSpeak's pauses: ``_``, ``_:``, ``_!``, ``_^_`` ..."""
    return name.startswith("_")


def fold(name: str, context: str = "") -> str:
    """ARPAbet (or ``sil``) for one eSpeak phoneme name; ``CorpusError`` if it is not mapped."""
    if is_pause(name):
        return SILENCE
    try:
        return ESPEAK_TO_ARPABET[name]
    except KeyError:
        where = f" in {context}" if context else ""
        raise CorpusError(
            f"unmapped eSpeak phoneme {name!r}{where}: add it to aalbert.corpus.synthetic.phones.ESPEAK_TO_ARPABET"
        ) from None
