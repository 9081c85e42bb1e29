"""The runner with the project's own upstreams: a tiny random AALBERT and the fbank baseline."""

import pytest

from aalbert import hub
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner


def _tiny_aalbert(stacking):
    from aalbert.upstream.factory import build_upstream
    from aalbert.upstream.model_config import TransformerConfig

    config = TransformerConfig(
        input_dim=80,
        hidden_size=32,
        num_hidden_layers=2,
        num_hidden_groups=1,
        num_attention_heads=2,
        intermediate_size=64,
        stacking=stacking,
    )
    return build_upstream(config, name="aalbert_tiny")


def _train(task, corpus, expdir, upstream, steps=40, extra=()):
    cfg = build_config(
        task,
        overrides=[
            f"data.roots=[{corpus}]",
            f"runner.total_steps={steps}",
            f"runner.eval_step={steps}",
            "optimizer.lr=0.01",
            *extra,
        ],
        upstream=upstream.name,
    )
    return Runner(cfg, expdir, upstream=upstream).train()


@pytest.mark.parametrize("stacking", [1, 3])
def test_tiny_aalbert_phone_linear(stacking, tone_corpus, tmp_path):
    res = _train(
        "phone_linear", tone_corpus, tmp_path / "exp", _tiny_aalbert(stacking), extra=["featurizer.layer_norm=true"]
    )
    assert res["upstream"]["downsample_rate"] == 160 * stacking
    assert len(res["featurizer"]["layer_weights"]) == 3
    assert res["metrics"]["test"]["accuracy"] > 0.5  # 5 tone classes


def test_tiny_aalbert_finetuned_speaker_utterance(tone_corpus, tmp_path):
    upstream = _tiny_aalbert(1)
    before = {k: v.clone() for k, v in upstream.encoder.state_dict().items()}
    res = _train("speaker_utterance", tone_corpus, tmp_path / "exp", upstream, steps=10, extra=["finetune=true"])
    assert res["upstream"]["finetune"] is True
    changed = [k for k, v in upstream.encoder.state_dict().items() if not v.equal(before[k])]
    assert changed  # the encoder was trained too


def test_fbank_selects_its_single_representation(tone_corpus, tmp_path):
    upstream = hub.load_upstream("fbank")
    assert upstream.num_layers == 0
    # (a phone task: fbank's per-utterance CMVN removes the constant tone that marks a fake speaker)
    res = _train("phone_linear", tone_corpus, tmp_path / "exp", upstream, steps=30)
    assert res["featurizer"]["layer_weights"] == [1.0]
    assert res["downstream_trainable_parameters"] == upstream.hidden_size * 5 + 5  # linear only, no weights
    assert res["metrics"]["test"]["accuracy"] > 0.5
