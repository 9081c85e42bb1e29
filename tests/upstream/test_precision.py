"""int8 / bf16 / fp16 inference of an upstream (aalbert.upstream.precision) and the hub's precision keywords."""

from __future__ import annotations

import pytest
import torch

from aalbert import hub
from aalbert.config import ConfigError
from aalbert.upstream.factory import build_upstream
from aalbert.upstream.model_config import TransformerConfig
from aalbert.upstream.precision import PrecisionError, apply_precision, check_precision, quantized_linear_count


def _model(seed: int = 0):
    torch.manual_seed(seed)
    config = TransformerConfig(
        input_dim=80, hidden_size=64, num_hidden_layers=3, num_attention_heads=4, intermediate_size=256
    )
    return build_upstream(config, name="small")


def _relative_errors(model, reference, wavs) -> list[float]:
    with torch.inference_mode():
        got, want = model(wavs)["hidden_states"], reference(wavs)["hidden_states"]
    assert all(g.dtype == torch.float32 for g in got)  # whatever ran inside, fp32 comes out
    return [float((g - w).norm() / w.norm()) for g, w in zip(got, want)]


def test_int8_quantizes_the_encoders_linear_layers_and_stays_close(speech_like):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    wavs = [speech_like(1.0, seed=1), speech_like(0.6, seed=2)]
    reference, model = _model(), apply_precision(_model(), "int8", "cpu")
    # 3 layers x (qkv, out, ffn_in, ffn_out); the input projection of log-mel stays fp32 (see the module)
    assert quantized_linear_count(model) == 12
    assert isinstance(model.encoder.layers[0].ffn_in, DynamicLinear)
    assert isinstance(model.encoder.input.spec_transform, torch.nn.Linear)
    assert not any(isinstance(m, DynamicLinear) for m in model.features.modules())  # the front end stays fp32
    errors = _relative_errors(model, reference, wavs)
    assert errors[0] == 0.0  # the input representation is not quantized
    assert 0 < max(errors) < 0.05, errors
    assert model.precision == "int8"


def test_bf16_autocast_keeps_names_and_returns_fp32_close_to_fp32(speech_like):
    wavs = [speech_like(0.8, seed=3)]
    reference, model = _model(), apply_precision(_model(), "bf16", "cpu")
    assert type(model) is type(reference)
    assert list(model.state_dict()) == list(reference.state_dict())  # same model, same names
    errors = _relative_errors(model, reference, wavs)
    assert 0 < max(errors) < 0.02, errors


def test_fp32_is_the_model_itself_and_precision_is_set_once():
    model = _model()
    assert apply_precision(model, "fp32") is model and quantized_linear_count(model) == 0
    apply_precision(model, "int8", "cpu")
    with pytest.raises(PrecisionError, match="already runs in int8"):
        apply_precision(model, "bf16", "cpu")


def test_impossible_precisions_are_one_line_errors(monkeypatch):
    with pytest.raises(PrecisionError, match="fp16 needs a CUDA device.*not cpu: use bf16 or int8"):
        apply_precision(_model(), "fp16", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PrecisionError, match="fp16 needs a CUDA device"):
        check_precision("fp16")  # no device given: this machine has no CUDA
    with pytest.raises(PrecisionError, match="int8 .* runs on CPU only, not cuda"):
        check_precision("int8", "cuda")
    with pytest.raises(PrecisionError, match="cannot be fine-tuned"):
        check_precision("int8", "cpu", finetune=True)
    with pytest.raises(PrecisionError, match="one of fp32, bf16, fp16, int8, got 'int4'"):
        check_precision("int4")
    assert check_precision("bfloat16") == "bf16" and check_precision("float32") == "fp32"


def test_every_hub_entry_takes_precision_and_quantize(make_s3prl_checkpoint, monkeypatch):
    from aalbert.hub_table import KINDS
    from aalbert.upstream import pretrained

    path = make_s3prl_checkpoint()
    monkeypatch.setattr(pretrained, "load_pretrained", lambda name, **kw: _model())  # nothing downloaded
    monkeypatch.setattr(hub, "download_url", lambda ckpt, **kw: path)
    for name, kind in KINDS.items():
        if "12l" in name or "6l" in name:
            continue  # the same function as the 3-layer entry, only slower to build
        ckpt = str(path) if kind in ("local", "url") else None
        model = hub.load_upstream(name, ckpt, quantize="int8")
        assert model.precision == "int8", name
        if kind != "baseline":
            assert quantized_linear_count(model) > 0, name
        assert hub.load_upstream(name, ckpt, precision="bf16").precision == "bf16", name
    with pytest.raises(ConfigError, match="ask for two precisions"):
        hub.load_upstream("fbank", precision="bf16", quantize="int8")
    with pytest.raises(ConfigError, match='only quantize="int8"'):
        hub.load_upstream("fbank", quantize="int4")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PrecisionError, match="fp16 needs a CUDA device"):
        hub.load_upstream("aalbert_3l_random", precision="fp16")
