"""File names made from strings that come with the data (utterance ids, speakers, labels).

A corpus decides its ids, not us: a Kaldi ``wav.scp`` or a Lhotse manifest may hold
``../../outside/victim``, ``/etc/x``, ``a\\b``, ``CON``, a 300-character id, or ``A`` next to
``a``. :func:`file_name` turns any such string into one file name that stays in its folder on
Linux, macOS and Windows, and gives different strings different names:

* ASCII letters, digits, ``-``, ``_`` and ``.`` are kept; every other byte of the UTF-8 text
  is written ``~xx`` (two lower-case hex digits): ``/`` ``\\`` NUL, spaces, ``~`` itself and
  all non-ASCII text (so macOS's Unicode normalisation cannot merge two names either);
* a leading or trailing ``.`` is escaped (no ``.``, ``..``, hidden files, or names Windows
  trims), as is the first letter of a Windows device name (``CON``, ``nul.x``, ``COM1``);
* a name with upper-case letters gets ``+`` and a hex mask of which letters are upper-case,
  so names differing only in case stay different on case-insensitive file systems
  (``FADG0_SI1279`` -> ``FADG0_SI1279+3f``); an empty string is ``~``;
* a name longer than ``max_bytes`` keeps its first bytes and ends in ``=`` and 24 hex
  digits of the text's sha256.

Ordinary lower-case ids (``1272-128104-0000``, ``spk1_utt2``) are their own names, so files
named by them before this encoding existed are still found. Without the hash (every name of at
most ``max_bytes``), :func:`text_of` gives the text back: the encoding is injective, even after
case folding, since ``~``, ``+`` and ``=`` never stand for themselves.
"""

from __future__ import annotations

import hashlib
import string

# eCryptfs (encrypted home folders) allows 143 bytes: this leaves room for an extension
# (".json") and the temporary name of an atomic write (".NAME.PID.XXXXXXXX.tmp", 22 more)
MAX_NAME_BYTES = 112
_KEEP = frozenset(string.ascii_letters + string.digits + "-_.")
_HASH_HEX = 24
_WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"] + [f"{d}{i}" for d in ("COM", "LPT") for i in range(10)]
)


def _escape(byte: int) -> str:
    return f"~{byte:02x}"


def file_name(text: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """The file name (no extension) that stands for ``text`` in a folder of such names."""
    if max_bytes < 2 * _HASH_HEX:
        raise ValueError(f"max_bytes must be at least {2 * _HASH_HEX}, got {max_bytes}")
    data = text.encode("utf-8", "surrogatepass")  # lone surrogates (undecodable file names) too
    parts = [chr(b) if chr(b) in _KEEP else _escape(b) for b in data]
    if not parts:
        return "~"
    if parts[0] == ".":
        parts[0] = _escape(ord("."))
    if parts[-1] == ".":
        parts[-1] = _escape(ord("."))
    if "".join(parts).split(".")[0].upper() in _WINDOWS_DEVICES:
        parts[0] = _escape(ord(parts[0]))
    body = "".join(parts)
    letters = [c for c in body if c.isalpha()]
    mask = sum(1 << i for i, c in enumerate(letters) if c.isupper())
    name = f"{body}+{mask:x}" if mask else body
    if len(name) <= max_bytes:
        return name
    keep = max_bytes - _HASH_HEX - 1
    cut = body[:keep]
    tilde = cut.rfind("~", len(cut) - 2)
    if tilde >= 0:  # not half an escape
        cut = cut[:tilde]
    return f"{cut}={hashlib.sha256(data).hexdigest()[:_HASH_HEX]}"


def text_of(name: str) -> str | None:
    """The text whose :func:`file_name` is ``name``; None for a shortened (hashed) name."""
    if "=" in name:
        return None
    if name == "~":
        return ""
    body = name.partition("+")[0]
    data, i = bytearray(), 0
    while i < len(body):
        if body[i] == "~":
            data.append(int(body[i + 1 : i + 3], 16))
            i += 3
        else:
            data.append(ord(body[i]))
            i += 1
    return data.decode("utf-8", "surrogatepass")
