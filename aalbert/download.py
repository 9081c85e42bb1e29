"""Downloading a file once into a cache, as torch.hub and torchvision do for weights.

Downloads are whole or absent. The file is streamed into a temporary file beside its final path
(aalbert.atomic), hashed on the way, and renamed into place only once it checks out: its length
is the Content-Length the server sent (if any), its sha256 the known one (if any), and
``verify`` (for checkpoints: aalbert.checkpoint_file.check_checkpoint_file, i.e. zip directory and
CRCs, or a legacy file that loads) accepts it, which is what catches a stream cut without a
Content-Length and an HTML page served with status 200. Any transport error (refused, reset,
timed out, a chunked stream cut short, an HTTP error status) is one :class:`DownloadError` naming
the URL and the path; nothing is left behind, and the leftovers of a killed download are removed
at the next try (never those of a download still running in another process).

The first download records the file's sha256, size and modification time beside it
(``<file>.json``): a later truncation, or a replacement that changes the modification time, is
an error naming the URL, the path and the command that fetches it again (``refetch``), not a
silently different model. ``force=True`` downloads again even when the file is cached, and
replaces it only once the new copy checks out.

``AALBERT_OFFLINE=1`` forbids downloads: a file that is not cached is then an error saying
where to put it by hand.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import IO

from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files, write_atomic, write_text_atomic
from aalbert.checkpoint_file import CheckpointError

OFFLINE_ENV = "AALBERT_OFFLINE"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DownloadError(CheckpointError):
    """A file that could not be downloaded or whose cached copy is damaged.

    One line: what, the problem, the URL, then ``hint`` (by default: where to place a copy
    fetched by hand; for a damaged cached copy: how to fetch it again, see cached_file_error).
    """

    def __init__(self, what: str, url: str, path: Path, problem: str, hint: str | None = None):
        self.url = url
        super().__init__(path, problem)
        hint = hint or f"you may download it yourself and place it at {path}"
        self.args = (f"{what}: {problem}. URL: {url} ; {hint}",)

    def __str__(self) -> str:
        return self.args[0]


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in ("", "0", "false", "no")


def record_path(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def cached_download(
    url: str,
    path: str | Path,
    what: str,
    sha256: str | None = None,
    progress: bool = True,
    *,
    verify: Callable[[Path], object] | None = None,
    force: bool = False,
    refetch: str | None = None,
    verify_cached: bool = False,
) -> Path:
    """``path``, downloaded from ``url`` unless it is already there; ``what`` names it in messages.

    ``verify(file)`` raises CheckpointError for content that must not be kept (also on a cached
    copy with ``verify_cached``); ``force`` downloads again even when cached; ``refetch`` is the
    command that does so, named by errors about the cached copy.
    """
    path = Path(path)
    if path.is_file() and not force:
        _check_cached(url, path, what, sha256, refetch)
        if verify_cached and verify is not None:
            check_cached_file(url, path, what, verify, refetch)
        return path
    if offline():
        why = "a fresh copy was asked for" if path.is_file() else "not in the cache"
        raise DownloadError(what, url, path, f"{why} and {OFFLINE_ENV} is set (no downloads)")
    remove_stale_temp_files(path.parent)  # left by a killed download (a live one's are kept)
    found: dict = {}

    def download_into(out: IO[bytes]) -> None:
        found["sha256"], found["size"], found["total"] = _stream(url, out, what, path, progress)
        if sha256 is not None and found["sha256"] != sha256.lower():
            raise DownloadError(
                what, url, path, f"sha256 mismatch: expected {sha256.lower()}, downloaded file has {found['sha256']}"
            )

    def accept(downloaded: Path) -> None:
        if verify is not None:
            try:
                verify(downloaded)
            except CheckpointError as err:
                raise DownloadError(what, url, path, _refusal(err.problem, found["size"], found["total"])) from err
        # the old record goes before the new file comes: a file without a record is hashed again
        record_path(path).unlink(missing_ok=True)

    write_atomic(path, download_into, verify=accept)  # renamed into place only once it checks out
    _write_record(path, {"url": url, "sha256": found["sha256"], "downloaded": time.strftime("%Y-%m-%dT%H:%M:%S")})
    return path


def check_cached_file(
    url: str, path: Path, what: str, verify: Callable[[Path], object], refetch: str | None = None
) -> None:
    """``verify(path)`` on a cached copy; its CheckpointError becomes one naming URL, path and refetch."""
    try:
        verify(path)
    except CheckpointError as err:
        raise cached_file_error(url, path, what, f"the cached file {err.problem}", refetch) from err


def cached_file_error(url: str, path: Path, what: str, problem: str, refetch: str | None) -> DownloadError:
    """The error for a cached copy that cannot be used: the URL, the path and how to fetch it again."""
    again = f"fetch it again with: {refetch}" if refetch else "delete it to download it again"
    return DownloadError(what, url, path, problem, hint=f"cached file: {path} ; {again}")


def _refusal(problem: str, size: int, total: int | None) -> str:
    said = f"the download was refused and removed: the file {problem}"
    if total is None:
        said += f" (the server sent no Content-Length, so a stream cut after {size} bytes looked complete)"
    return said


def _write_record(path: Path, fields: dict) -> None:
    stat = path.stat()
    fields = {**fields, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    write_text_atomic(record_path(path), json.dumps(fields, indent=1))


def _stream(url: str, out: IO[bytes], what: str, path: Path, progress: bool) -> tuple[str, int, int | None]:
    """Copy ``url`` into ``out``: (sha256, bytes, the Content-Length sent or None)."""
    digest, size, total = hashlib.sha256(), 0, None
    request = urllib.request.Request(url, headers={"User-Agent": "aalbert"})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            with tqdm(
                total=total,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=f"downloading {what}",
                disable=not progress,
                leave=False,
            ) as bar:
                for block in iter(lambda: response.read(_CHUNK), b""):
                    _write(out, block, what, url, path)
                    digest.update(block)
                    size += len(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as err:
        raise DownloadError(what, url, path, f"download failed: HTTP {err.code} {err.reason}") from err
    except http.client.IncompleteRead as err:  # a chunked stream cut short (or a length not met)
        size += len(err.partial)
        of = f" of {total}" if total is not None else ""
        raise DownloadError(what, url, path, f"download cut after {size}{of} bytes: the connection closed") from err
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as err:
        # refused, reset, timed out, a malformed reply or URL: the network's problem, not a bug
        reason = getattr(err, "reason", None) or err or type(err).__name__
        hint = "no network?" if size == 0 else "the connection broke"
        raise DownloadError(what, url, path, f"download failed after {size} bytes: {reason} ({hint})") from err
    if total is not None and size != total:
        raise DownloadError(what, url, path, f"download interrupted: got {size} of {total} bytes")
    if size == 0:
        raise DownloadError(what, url, path, "download failed: the server sent an empty file")
    return digest.hexdigest(), size, total


def _write(out: IO[bytes], block: bytes, what: str, url: str, path: Path) -> None:
    try:
        out.write(block)
    except OSError as err:  # a full disk is not the network's fault
        raise DownloadError(what, url, path, f"cannot write the download beside {path}: {err}") from err


def _check_cached(url: str, path: Path, what: str, sha256: str | None, refetch: str | None) -> None:
    """A cached file must still be what was downloaded: its recorded size, and its sha256 when its
    modification time changed (hashing only then keeps a load cheap).

    A file placed by hand has no record: it is hashed once against the known sha256, if any,
    and recorded.
    """
    record = record_path(path)
    if not record.is_file():
        digest = sha256_of(path)
        if sha256 is not None and digest != sha256.lower():
            raise cached_file_error(
                url,
                path,
                what,
                f"sha256 mismatch: expected {sha256.lower()}, the file in the cache has {digest}",
                refetch,
            )
        _write_record(path, {"url": "placed by hand", "sha256": digest})
        return
    try:
        fields = json.loads(record.read_text())
        size = int(fields["size"])
    except (ValueError, KeyError, TypeError, OSError):
        return
    stat = path.stat()
    if stat.st_size != size:
        raise cached_file_error(
            url, path, what, f"the cached file is damaged: {stat.st_size} bytes where {size} were downloaded", refetch
        )
    if fields.get("mtime_ns") in (None, stat.st_mtime_ns) or not fields.get("sha256"):
        return
    digest = sha256_of(path)
    if digest != fields["sha256"]:
        raise cached_file_error(
            url,
            path,
            what,
            f"the cached file changed since it was downloaded: sha256 {digest}, recorded {fields['sha256']}",
            refetch,
        )
    _write_record(path, {**fields})  # the same bytes, touched: remember the new time
