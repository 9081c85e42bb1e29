"""Downloading a file once into a cache, as torch.hub and torchvision do for weights.

The file is streamed into a temporary file beside its final path (aalbert.atomic), hashed on the
way, checked (byte count, sha256 when known) and only then renamed into place: an interrupted
download never leaves anything that looks complete, and the leftovers of a killed one are
removed at the next try (never those of a download still running in another process). The first download records the file's sha256 and size beside it (``<file>.json``), so a
later truncation or replacement of the cached file is an error, not a silently different model.

``AALBERT_OFFLINE=1`` forbids downloads: a file that is not cached is then an error saying
where to put it by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from aalbert.atomic import remove_stale_temp_files, write_atomic, write_text_atomic
from aalbert.checkpoint_file import CheckpointError

OFFLINE_ENV = "AALBERT_OFFLINE"
_CHUNK = 1 << 20
_TIMEOUT_S = 60


class DownloadError(CheckpointError):
    """A file that could not be downloaded or whose cached copy is damaged."""

    def __init__(self, what: str, url: str, path: Path, problem: str):
        self.url = url
        super().__init__(path, problem)
        self.args = (f"{what}: {problem}. URL: {url} ; you may download it yourself and place it at {path}",)

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


def cached_download(url: str, path: str | Path, what: str, sha256: str | None = None, progress: bool = True) -> Path:
    """``path``, downloaded from ``url`` unless it is already there; ``what`` names it in messages."""
    path = Path(path)
    if path.is_file():
        _check_cached(url, path, what, sha256)
        return path
    if offline():
        raise DownloadError(what, url, path, f"not in the cache and {OFFLINE_ENV} is set (no downloads)")
    remove_stale_temp_files(path.parent)  # left by a killed download (a live one's are kept)
    found: dict = {}

    def download_into(out) -> None:
        found["sha256"], found["size"] = _stream(url, out, what, path, progress)
        if sha256 is not None and found["sha256"] != sha256.lower():
            raise DownloadError(
                what, url, path, f"sha256 mismatch: expected {sha256.lower()}, downloaded file has {found['sha256']}"
            )

    write_atomic(path, download_into)  # a temporary file renamed into place only once it checks out
    digest, size = found["sha256"], found["size"]
    write_text_atomic(
        record_path(path),
        json.dumps(
            {"url": url, "sha256": digest, "size": size, "downloaded": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1
        ),
    )
    return path


def _stream(url: str, out, what: str, path: Path, progress: bool) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
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
                    out.write(block)
                    digest.update(block)
                    size += len(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as err:
        raise DownloadError(what, url, path, f"download failed: HTTP {err.code} {err.reason}") from err
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise DownloadError(what, url, path, f"download failed after {size} bytes: {reason} (no network?)") from err
    if total is not None and size != total:
        raise DownloadError(what, url, path, f"download interrupted: got {size} of {total} bytes")
    if size == 0:
        raise DownloadError(what, url, path, "download failed: the server sent an empty file")
    return digest.hexdigest(), size


def _check_cached(url: str, path: Path, what: str, sha256: str | None) -> None:
    """A cached file must still be what was downloaded (cheap check: its recorded size).

    A file placed by hand has no record: it is hashed once against the known sha256, if any,
    and recorded.
    """
    record = record_path(path)
    if not record.is_file():
        digest = sha256_of(path)
        if sha256 is not None and digest != sha256.lower():
            raise DownloadError(
                what, url, path, f"sha256 mismatch: expected {sha256.lower()}, the file in the cache has {digest}"
            )
        write_text_atomic(
            record, json.dumps({"url": "placed by hand", "sha256": digest, "size": path.stat().st_size}, indent=1)
        )
        return
    try:
        size = int(json.loads(record.read_text())["size"])
    except (ValueError, KeyError, TypeError, OSError):
        return
    actual = path.stat().st_size
    if actual != size:
        raise DownloadError(
            what,
            url,
            path,
            f"the cached file is damaged: {actual} bytes where {size} were downloaded; delete it to download it again",
        )
