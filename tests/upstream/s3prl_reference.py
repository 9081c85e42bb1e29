"""s3prl 0.4.18's own upstream on a checkpoint file, as the reference the parity tests compare with."""

from __future__ import annotations

import contextlib
import io

import torch

TOL = 1e-4


def quiet(fn, *args, **kwargs):
    with contextlib.redirect_stdout(io.StringIO()):  # s3prl prints progress lines
        return fn(*args, **kwargs)


def s3prl_expert_hidden(expert_cls, path, wav) -> list[torch.Tensor]:
    """s3prl's hidden states of one utterance (s3prl is fed one at a time: see test_s3prl_parity)."""
    expert = quiet(expert_cls, str(path)).eval()
    with torch.no_grad():
        return [h[0] for h in expert([wav])["hidden_states"]]


def assert_parity(ours_out, reference: list[list[torch.Tensor]]) -> None:
    """Our batched output against s3prl's per-utterance hidden states, utterance by utterance."""
    for i, ref in enumerate(reference):
        n = int(ours_out["lengths"][i])
        assert ref[0].shape[0] == n, f"utterance {i}: s3prl has {ref[0].shape[0]} frames, ours {n}"
        assert len(ref) == len(ours_out["hidden_states"])
        for layer, (ours, theirs) in enumerate(zip(ours_out["hidden_states"], ref)):
            err = (ours[i, :n] - theirs).abs().max().item()
            assert err < TOL, f"utterance {i}, hidden state {layer}: max abs diff {err:.2e}"
