"""Phone names from aligners and lexicons, made comparable: marks folded, silence unified, ids.

Lexicons and aligners write phones with marks a phone classifier should not split on: ARPAbet
stress digits (``AH0``, ``AH1`` -> ``AH``) and Kaldi's word-position suffixes (``T_B``, ``T_I``,
``T_E``, ``T_S`` -> ``T``; ``AH0_E`` -> ``AH``). With ``data.fold_phone_marks`` (default) both are
removed. Silence has many spellings (``sil``, ``sp``, ``SIL``, the empty interval of an MFA
TextGrid ...): every one listed in ``data.silence_phones`` becomes the inventory's silence.
"""

from __future__ import annotations

import re

_POSITION = re.compile(r"_[BIES]$")
_STRESS = re.compile(r"(?<=[A-Za-z])[0-9]$")
SILENCE = "sil"


def fold_phone_marks(name: str) -> str:
    """``AH0`` -> ``AH``, ``T_B`` -> ``T``, ``AH1_E`` -> ``AH``; other names unchanged."""
    return _STRESS.sub("", _POSITION.sub("", name))


class PhoneNamer:
    """Maps raw phone names to ids of a fixed list, or collects the inventory as it goes."""

    def __init__(self, silence_names: list[str], fold_marks: bool = True, fixed: list[str] | None = None):
        self.fold_marks = fold_marks
        self.silence_names = {n.lower() for n in silence_names} | {""}
        self.fixed = fixed
        silence_in_list = [n for n in fixed or [] if n.lower() in self.silence_names]
        self.silence = silence_in_list[0] if silence_in_list else SILENCE
        self.seen: set[str] = set()

    def name(self, raw: str) -> str:
        name = fold_phone_marks(raw) if self.fold_marks else raw
        if raw.lower() in self.silence_names or name.lower() in self.silence_names:
            return self.silence
        return name

    def known(self, name: str) -> bool:
        return self.fixed is None or name in self.fixed

    def phone_names(self, names_used: set[str]) -> list[str]:
        """The inventory: the fixed list, or silence first then the phones used, sorted."""
        if self.fixed is not None:
            return list(self.fixed)
        return [self.silence] + sorted(names_used - {self.silence})
