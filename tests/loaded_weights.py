"""Checks that a loaded upstream holds the values of the checkpoint file it was loaded from."""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from aalbert.upstream.s3prl_state import export_encoder_state


def assert_holds_checkpoint_weights(upstream: torch.nn.Module, path: str | Path) -> None:
    """Every tensor of the file's ``Transformer`` equals the model's (in s3prl's names, every layer).

    The file is read with plain ``torch.load``, weights-only (not the package's reader) and the model's weights
    are mapped back with the export direction, so a loader that ignored the file, read another
    one or mixed up tensors fails here whatever it got wrong on the way in.
    """
    with torch.serialization.safe_globals([argparse.Namespace]):  # s3prl keeps its args in the file
        in_file = torch.load(path, map_location="cpu", weights_only=True)["Transformer"]
    in_model = export_encoder_state(upstream.encoder)
    assert in_model.keys() == in_file.keys()
    differ = [k for k in in_file if not torch.equal(in_model[k], in_file[k])]
    assert not differ, f"{len(differ)} tensor(s) differ from {path}: {differ[:5]}"
