"""TIMIT's 61 phones folded to the 48 and 39 classes of Lee & Hon (1989).

61 -> 48: closures become ``cl`` (unvoiced pcl tcl kcl) and ``vcl`` (voiced bcl dcl gcl),
``h#`` and ``pau`` become ``sil``, and ax-h -> ax, axr -> er, hv -> hh, em -> m, eng -> ng,
nx -> n, ux -> uw; ``q`` (a glottal stop most transcriptions drop) is removed, its frames going
to the phone before it. 48 -> 39 (what PER is scored on): ao -> aa, ax -> ah, el -> l,
en -> n, ix -> ih, zh -> sh, and cl, vcl, epi, sil all -> ``sil``.
"""

from __future__ import annotations

REMOVED = "q"
FOLD_61_TO_48 = {
    "ax-h": "ax",
    "axr": "er",
    "hv": "hh",
    "em": "m",
    "eng": "ng",
    "nx": "n",
    "ux": "uw",
    "pcl": "cl",
    "tcl": "cl",
    "kcl": "cl",
    "bcl": "vcl",
    "dcl": "vcl",
    "gcl": "vcl",
    "h#": "sil",
    "pau": "sil",
}
FOLD_48_TO_39 = {
    "ao": "aa",
    "ax": "ah",
    "el": "l",
    "en": "n",
    "ix": "ih",
    "zh": "sh",
    "cl": "sil",
    "vcl": "sil",
    "epi": "sil",
}
PHONES_48 = sorted(
    {
        "aa",
        "ae",
        "ah",
        "ao",
        "aw",
        "ax",
        "ay",
        "b",
        "ch",
        "cl",
        "d",
        "dh",
        "dx",
        "eh",
        "el",
        "en",
        "epi",
        "er",
        "ey",
        "f",
        "g",
        "hh",
        "ih",
        "ix",
        "iy",
        "jh",
        "k",
        "l",
        "m",
        "n",
        "ng",
        "ow",
        "oy",
        "p",
        "r",
        "s",
        "sh",
        "sil",
        "t",
        "th",
        "uh",
        "uw",
        "v",
        "vcl",
        "w",
        "y",
        "z",
        "zh",
    }
)
PHONES_39 = sorted({FOLD_48_TO_39.get(p, p) for p in PHONES_48})
# the 61 -> 39 folding in one table (closures, h#, pau, epi -> sil); keys are 61-set names only
_FOLDED_TWICE = {
    p: FOLD_48_TO_39.get(FOLD_61_TO_48.get(p, p), FOLD_61_TO_48.get(p, p))
    for p in set(FOLD_61_TO_48) | set(FOLD_48_TO_39) - {"cl", "vcl"}
}
FOLD_61_TO_39 = {k: v for k, v in _FOLDED_TWICE.items() if k != v}
SILENCE = "sil"


def phone_set(size: int) -> list[str]:
    return list(PHONES_39) if size == 39 else list(PHONES_48)


def fold_phone(phone: str, size: int = 39) -> str | None:
    """A 61-phone label folded to the ``size``-class set (39 or 48); None for ``q``;
    ``KeyError`` for a name that is not a TIMIT phone."""
    phone = phone.lower()
    if phone == REMOVED:
        return None
    folded = FOLD_61_TO_48.get(phone, phone)
    if folded not in PHONES_48:
        raise KeyError(phone)
    return FOLD_48_TO_39.get(folded, folded) if size == 39 else folded
