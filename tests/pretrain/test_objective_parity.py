"""Objective parity with s3prl 0.4.18's pretraining model (``TransformerForMaskedAcousticModel``).

One training step of ours -- ``Trainer._forward`` itself: features, stacking, span mask, 80/10/10
corruption, ``MaskedAcousticModel``, ``l1_loss`` on ``scored_frames`` -- and s3prl's pretraining
model fed the same corrupted batch, the same mask and the same initial weights (ours exported to
s3prl's format) must give the same loss and the same gradient for every parameter, dropout off.

s3prl 0.4.18 cannot stack frames; with stacking its model is fed our stacked frames (input
dimension 3 x 80) and its head predicts stacked targets (3 x 201), as the original Mockingjay did.

What is deliberately NOT compared: how the mask is *drawn*. s3prl allows overlapping spans (so
an utterance may get fewer than p * L masked frames), never starts one on the last frame, and its
"random frames" replacement copies spans of the same utterance; ours draws non-overlapping spans
(exactly n * C frames) and random frames from the whole batch. Those are sampling choices
(masking.py), not the objective: given a mask and a corruption, the loss and gradients are equal.
"""

from __future__ import annotations

import contextlib
import copy
import importlib.util
import io
import sys
import types
import warnings
from pathlib import Path

import pytest

# s3prl is a test requirement: a missing install must fail, not skip
import s3prl  # noqa: E402
import torch
from pretrain_fixtures import tiny_config
from speech_waves import load_real_speech, make_speech_like

from aalbert.pretrain.masking import MaskedBatch, mask_batch
from aalbert.pretrain.trainer import Trainer
from aalbert.upstream.checkpoint import export_encoder_state, export_head_state
from aalbert.upstream.model import stack_frames

# the tiny recipe's 70 ms spans warn (aalbert.pretrain.span); this test is about the objective
pytestmark = [pytest.mark.s3prl, pytest.mark.filterwarnings("ignore::aalbert.pretrain.span.ShortMaskSpanWarning")]
TOL = 1e-5
S3PRL_DIR = Path(s3prl.__file__).parent
# imported by pretrain_expert.py only for its data loading / plotting, which this test never uses
OPTIONAL_DEPENDENCIES = ("pandas", "librosa")


@pytest.fixture(scope="module")
def s3prl_mam() -> types.SimpleNamespace:
    """s3prl's ``pretrain/mockingjay/pretrain_expert.py``: its model class, config class and the
    position encoding its pretraining data uses.

    The file imports ``pretrain.*``, ``upstream.*`` and ``utility.*`` as top-level packages (s3prl
    runs from its own folder), so that folder is on sys.path during the import only, and the
    top-level modules it adds are removed right after (the classes keep their globals), so no
    top-level ``upstream`` package leaks into other tests. Dependencies of its data loading and
    plotting that are not installed (pandas, librosa) are stubbed for the import only.
    ``utility/audio.py`` calls ``warnings.filterwarnings("ignore")`` at import: catch_warnings
    undoes it.
    """
    before = set(sys.modules)
    for name in OPTIONAL_DEPENDENCIES:
        if importlib.util.find_spec(name) is None:
            sys.modules[name] = types.ModuleType(name)
    sys.path.insert(0, str(S3PRL_DIR))
    try:
        with warnings.catch_warnings():
            spec = importlib.util.spec_from_file_location(
                "s3prl_mockingjay_pretrain_expert", S3PRL_DIR / "pretrain" / "mockingjay" / "pretrain_expert.py"
            )
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        task = sys.modules["pretrain.mockingjay.task"]
        return types.SimpleNamespace(
            model_cls=module.TransformerForMaskedAcousticModel,
            config_cls=module.TransformerConfig,
            position_encoding=task.fast_position_encoding,
        )
    finally:
        sys.path.remove(str(S3PRL_DIR))
        leaked = ("pretrain", "upstream", "utility", *OPTIONAL_DEPENDENCIES)
        for name in set(sys.modules) - before:
            if name.split(".")[0] in leaked:
                del sys.modules[name]


def s3prl_section(cfg) -> dict:
    """s3prl's ``transformer`` section for our encoder config (what its pretraining reads)."""
    m = cfg.encoder_config()
    return {
        "hidden_size": m.hidden_size,
        "num_hidden_layers": m.num_hidden_layers,
        "num_attention_heads": m.num_attention_heads,
        "intermediate_size": m.intermediate_size,
        "hidden_act": m.hidden_act,
        "hidden_dropout_prob": m.hidden_dropout_prob,
        "attention_probs_dropout_prob": m.attention_probs_dropout_prob,
        "initializer_range": m.initializer_range,
        "layer_norm_eps": m.layer_norm_eps,
        "share_layer": m.groups == 1,
        "pre_layer_norm": False,
    }


def make_trainer(tmp_path, corpus_dir, upstream: str, stacking: int, target: str) -> Trainer:
    cfg = tiny_config(
        [corpus_dir],
        model={
            "hidden_size": 32,
            "num_hidden_layers": 3,
            "num_attention_heads": 4,
            "intermediate_size": 64,
            "hidden_dropout_prob": 0.0,
            "attention_probs_dropout_prob": 0.0,
            "stacking": stacking,
            "num_hidden_groups": 1 if upstream == "aalbert" else None,
        },
        task={"target": target},
    )
    trainer = Trainer(cfg, tmp_path / "exp", progress=False)
    with torch.no_grad():  # non-trivial biases and LayerNorms, so every parameter matters
        gen = torch.Generator().manual_seed(7)
        for p in trainer.model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=gen))
    return trainer


def clean_batch(trainer: Trainer, waves: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The stacked, uncorrupted inputs and their lengths, as ``Trainer._forward`` computes them."""
    with torch.no_grad():
        feats = trainer.extractor(waves, with_target=True)
        return stack_frames(feats.inputs, feats.lengths, trainer.stacking)


def draw_mask(trainer: Trainer, waves, generator: torch.Generator) -> MaskedBatch:
    """The draw ``Trainer._forward`` makes from ``generator`` for this batch."""
    inputs, lengths = clean_batch(trainer, waves)
    task = trainer.cfg.task
    return mask_batch(
        inputs,
        lengths,
        task.mask_proportion,
        task.mask_consecutive,
        generator=generator,
        zero_prob=task.zero_prob,
        random_prob=task.random_prob,
    )


def our_step(trainer: Trainer, waves: list[torch.Tensor]) -> tuple[torch.Tensor, dict, MaskedBatch]:
    """``Trainer._forward`` + backward, and the mask it drew (recomputed from the generator's state)."""
    state = trainer.mask_generator.get_state()
    trainer.model.train()
    loss, parts = trainer._forward(waves)
    loss.backward()
    masked = draw_mask(trainer, waves, torch.Generator().set_state(state))
    assert torch.equal(masked.inputs, parts["masked"]), "could not recompute the step's mask"
    return loss.detach(), parts, masked


def s3prl_step(s3prl_mam, trainer: Trainer, parts: dict, mask: torch.Tensor):
    """s3prl's pretraining model with our weights on our batch, its inputs prepared as its expert's
    ``forward`` prepares them (the position table expanded over the batch, a float attention mask)."""
    config = s3prl_mam.config_cls(s3prl_section(trainer.cfg))
    config.loss = "L1"
    masked, targets, lengths = parts["masked"], parts["targets"], parts["lengths"]
    with contextlib.redirect_stdout(io.StringIO()):
        model = s3prl_mam.model_cls(config, masked.size(-1), targets.size(-1))
    model.Transformer.load_state_dict(export_encoder_state(trainer.model.encoder))
    model.SpecHead.load_state_dict(export_head_state(trainer.model.head))
    model.train()
    B, T = mask.shape
    pos_enc = s3prl_mam.position_encoding(T, config.hidden_size).expand(B, T, config.hidden_size)
    attn_mask = (torch.arange(T)[None, :] < lengths[:, None]).float()
    mask_label = mask[..., None].expand_as(targets)
    loss, _ = model(masked, pos_enc, mask_label, attn_mask, targets)
    loss.backward()
    return loss.detach(), model


def grads_in_s3prl_names(trainer: Trainer) -> dict[str, torch.Tensor]:
    """Our gradients under s3prl's parameter names (a shared group's gradient on every layer)."""
    model = copy.deepcopy(trainer.model)
    with torch.no_grad():
        for p, ours in zip(model.parameters(), trainer.model.parameters()):
            p.copy_(ours.grad)
    encoder = {f"Transformer.{k}": v for k, v in export_encoder_state(model.encoder).items()}
    head = {f"SpecHead.{k}": v for k, v in export_head_state(model.head).items()}
    return {**encoder, **head}


@pytest.fixture(scope="module")
def waves():
    # unequal lengths (2.4 s, 2.0 s, 0.93 s): padding and the attention mask are exercised
    return [*load_real_speech(), make_speech_like(0.93, seed=1)]


CASES = [(u, s, t) for u in ("mockingjay", "aalbert") for s in (1, 3) for t in ("mel", "linear")]


@pytest.mark.parametrize("upstream,stacking,target", CASES, ids=[f"{u}-stack{s}-{t}" for u, s, t in CASES])
def test_one_step_equals_s3prl(tmp_path, corpus_dir, s3prl_mam, waves, upstream, stacking, target):
    trainer = make_trainer(tmp_path, corpus_dir, upstream, stacking, target)
    # a mask-generator seed whose draw uses all three corruptions (zeroed, random frames, unchanged)
    seed = next(
        s
        for s in range(1000)
        if set(draw_mask(trainer, waves, torch.Generator().manual_seed(s)).mode.tolist()) == {0, 1, 2}
    )
    trainer.mask_generator.manual_seed(seed)

    ours, parts, masked = our_step(trainer, waves)
    assert set(masked.mode.tolist()) == {0, 1, 2}
    assert parts["targets"].size(-1) == (201 if target == "linear" else 80) * stacking
    theirs, model = s3prl_step(s3prl_mam, trainer, parts, masked.mask)

    assert abs(ours.item() - theirs.item()) <= TOL, f"loss: ours {ours.item():.7f}, s3prl {theirs.item():.7f}"
    expected = grads_in_s3prl_names(trainer)
    got = {
        f"{part}.{k}": v.grad
        for part in ("Transformer", "SpecHead")
        for k, v in getattr(model, part).state_dict(keep_vars=True).items()
    }
    assert expected.keys() == got.keys()
    assert all(g is not None for g in got.values())
    diffs = {k: (expected[k] - got[k]).abs().max().item() for k in expected}
    worst = max(diffs, key=diffs.get)
    assert diffs[worst] <= TOL, f"gradient of {worst}: max abs diff {diffs[worst]:.2e}"
    # the comparison has teeth: gradients are far from zero where they are compared
    assert max(g.abs().max().item() for g in got.values()) > 1e-2
