"""MaskedAcousticModel: the scored frames only through the last layer's queries and the head, and
the whole last hidden state only on the steps that draw the spectrogram figure."""

from __future__ import annotations

import pytest
import torch
from pretrain_fixtures import tiny_config

from aalbert.corpus.utterance import load_utterance_audio
from aalbert.pretrain.model import MaskedAcousticModel
from aalbert.pretrain.trainer import Trainer
from aalbert.upstream.model import TransformerEncoder, build_spec_head
from aalbert.upstream.model_config import TransformerConfig

pytestmark = pytest.mark.filterwarnings("ignore::aalbert.pretrain.span.ShortMaskSpanWarning")


def test_predictions_are_the_same_with_and_without_the_whole_hidden_state():
    torch.manual_seed(0)
    cfg = TransformerConfig(
        hidden_size=32,
        num_attention_heads=4,
        intermediate_size=64,
        num_hidden_layers=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = MaskedAcousticModel(TransformerEncoder(cfg), build_spec_head(cfg, 20)).train()
    lengths = torch.tensor([40, 31])
    inputs = torch.randn(2, 40, 80) * (torch.arange(40)[None, :, None] < lengths[:, None, None])
    frames = torch.zeros(2, 40, dtype=torch.bool)
    frames[0, 5:12] = frames[1, 20:27] = frames[1, 30] = True

    picked, none = model(inputs, lengths, frames)
    whole, hidden = model(inputs, lengths, frames, keep_hidden=True)

    assert none is None and hidden.shape == (2, 40, 32)
    assert picked.shape == (15, 20)
    torch.testing.assert_close(picked, whole, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(model.head(hidden[frames]), whole)


def test_the_trainer_keeps_the_hidden_state_on_figure_steps_only(tmp_path, corpus_dir):
    trainer = Trainer(tiny_config([corpus_dir], runner={"image_step": 2}), tmp_path / "exp", progress=False)
    waves = [load_utterance_audio(u) for u in trainer.corpus.utterances[:2]]
    kept = []
    for step in range(4):
        trainer.state.step = step  # the step about to finish is step + 1
        loss, parts = trainer._forward(waves)
        loss.backward()
        kept.append(parts["hidden"] is not None)
    assert kept == [False, True, False, True]
