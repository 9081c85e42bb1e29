"""Downloading and loading the published Mockingjay and Audio ALBERT checkpoints by name.

The table of them (s3prl's names, URLs and sizes) is aalbert.upstream.pretrained_table, which
imports no torch; its functions are re-exported here (``PRETRAINED`` itself lives only there).
Files are downloaded once into torch's hub cache (``torch.hub.get_dir()``) under
``aalbert/<name>/``, kept only if whole, and loaded weights-only like any checkpoint file.
"""

from __future__ import annotations

from pathlib import Path

from aalbert.checkpoint_file import CheckpointError, check_checkpoint_file
from aalbert.download import DownloadError, cached_download, cached_file_error
from aalbert.upstream.checkpoint import upstream_from_checkpoint
from aalbert.upstream.model import Upstream
from aalbert.upstream.pretrained_table import PretrainedModel, find_pretrained, pretrained_names, refetch_command

__all__ = [  # the table's functions (pretrained_table.py: the table itself lives there only), and this module's
    "PretrainedModel",
    "find_pretrained",
    "pretrained_names",
    "refetch_command",
    "download_pretrained",
    "load_pretrained",
]


def download_pretrained(name: str, progress: bool = True, refresh: bool = False, verify_cached: bool = False) -> Path:
    """The cached checkpoint file of ``name``, downloaded first if needed (kept only if whole).

    ``refresh`` downloads it again, replacing the cached copy only once the new one checks out;
    ``verify_cached`` checks a cached copy as a download is checked (``aalbert hub download``).
    """
    model = find_pretrained(name)
    return cached_download(
        model.url,
        model.cache_path(),
        what=f"pretrained model {name!r}",
        sha256=model.sha256,
        progress=progress,
        verify=check_checkpoint_file,
        force=refresh,
        refetch=refetch_command(name),
        verify_cached=verify_cached,
    )


def load_pretrained(
    name: str, max_input_length: int | None = None, progress: bool = True, refresh: bool = False
) -> Upstream:
    """The published model ``name`` as an eval-mode Upstream (downloaded once, then cached).

    ``max_input_length``: None forwards long inputs in pieces as s3prl does (the checkpoint's
    ``task.sequence_length``), 0 forwards whole utterances.
    """
    model = find_pretrained(name)
    path = download_pretrained(name, progress=progress, refresh=refresh)
    what = f"pretrained model {name!r}"
    try:
        upstream = upstream_from_checkpoint(path, name=name, max_input_length=max_input_length)
    except CheckpointError as err:
        raise cached_file_error(
            model.url, path, what, f"the cached file cannot be used ({err.problem})", refetch_command(name)
        ) from err
    groups = upstream.encoder_config.groups
    if upstream.num_layers != model.layers or (groups == 1) != model.shared:
        raise DownloadError(
            what,
            model.url,
            path,
            f"the file holds a {upstream.num_layers}-layer model with {groups} "
            f"weight group(s), not the {model.describe()} listed for this name",
        )
    return upstream
