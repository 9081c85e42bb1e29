"""Inference in fewer bits: dynamic int8 Linear layers (CPU) or bf16 / fp16 autocast, for a frozen upstream.

``apply_precision(upstream, precision, device)`` is the one function every path uses: the hub's
``precision=`` / ``quantize=`` keywords (aalbert.hub_options), ``aalbert downstream --precision``
and ``aalbert extract --precision``.

* ``fp32``: the upstream as it is.
* ``int8``: PyTorch's dynamic quantization (``torch.ao.quantization.quantize_dynamic``) of the
  encoder's ``nn.Linear`` layers (all but the input projection), weights per output channel,
  activations per tensor and batch (on x86 with 7 bits, fbgemm's reduced range: most of the error). CPU only: PyTorch has no
  dynamic int8 Linear kernel for CUDA. The model is then inference only (no gradients).
* ``bf16`` / ``fp16``: the encoder runs under ``torch.autocast`` (its matmuls in half precision,
  LayerNorm and softmax in fp32 as autocast decides); its hidden states are returned as fp32, so a
  featurizer or a feature cache sees the dtype it always saw. fp16 autocast needs CUDA; bf16 runs on
  CPU too, but is fast only where the CPU has bf16 instructions (AVX512-BF16, AMX): elsewhere it is
  emulated and slower than fp32 (measured in benchmarks/bench_precision.py).

The feature front end (STFT, mel filterbank, CMVN) stays fp32 in every mode: it is a small part of
the time, and half-precision log-mel of quiet frames loses whole decibels.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import torch
from torch import nn

from aalbert.config import ConfigError

PRECISIONS = ("fp32", "bf16", "fp16", "int8")
# the other spellings users bring (torch's dtype names, quantize="int8"'s value)
_ALIASES = {"float32": "fp32", "float": "fp32", "bfloat16": "bf16", "float16": "fp16", "half": "fp16", "qint8": "int8"}
_AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class PrecisionError(ConfigError):
    """A precision this upstream, device or use cannot have (a user error: one line)."""


def canonical_precision(precision: str | None) -> str:
    """``precision`` as one of PRECISIONS (None: fp32); a PrecisionError for anything else."""
    if precision is None:
        return "fp32"
    name = str(precision).strip().lower()
    name = _ALIASES.get(name, name)
    if name not in PRECISIONS:
        raise PrecisionError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return name


def check_precision(precision: str, device: torch.device | str | None = None, finetune: bool = False) -> str:
    """The canonical precision if ``device`` can run it (and, with ``finetune``, train through it).

    ``device`` None: where a freshly loaded model runs, the CPU for int8 (it is built there) and
    CUDA, if this machine has it, for fp16."""
    precision = canonical_precision(precision)
    kind = None if device is None else torch.device(device).type
    if precision == "int8":
        if kind not in (None, "cpu"):
            raise PrecisionError(
                f"precision int8 (dynamic quantization) runs on CPU only, not {kind}: use bf16 or fp16 there"
            )
        if finetune:
            raise PrecisionError("precision int8 is for a frozen upstream: quantized layers cannot be fine-tuned (-f)")
    if precision == "fp16":
        kind = kind or ("cuda" if torch.cuda.is_available() else "cpu")
        if kind != "cuda":
            raise PrecisionError(
                f"precision fp16 needs a CUDA device (autocast fp16), not {kind}: use bf16 or int8 on CPU"
            )
    return precision


def quantized_linear_count(model: nn.Module) -> int:
    """How many of ``model``'s modules are dynamically quantized Linear layers."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    return sum(isinstance(m, DynamicLinear) for m in model.modules())


def _quantize_int8(module: nn.Module) -> nn.Module:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    spec: dict[Any, Any] = {nn.Linear: per_channel_dynamic_qconfig}
    if isinstance(getattr(module, "input", None), nn.Module):
        # the encoder's input projection of log-mel frames stays fp32: per-tensor int8 activations of
        # log-mel cost 0.45 % relative error in every hidden state (measured on LibriSpeech), and it
        # is < 1 % of the encoder's FLOPs
        spec["input.spec_transform"] = None

    with warnings.catch_warnings():
        # torch 2.x marks torch.ao.quantization deprecated in favour of torchao (not a dependency here);
        # the eager dynamic path still works, and the warning would print on every model loaded
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*torch\.ao\.quantization")
        warnings.filterwarnings("ignore", category=UserWarning, message=r".*quantize_per_(tensor|channel)")
        return quantize_dynamic(module, spec, dtype=torch.qint8, inplace=True)


def _as_fp32(out: Any) -> Any:
    """Hidden states (and attentions) of an encoder or upstream output back in fp32."""
    if isinstance(out, torch.Tensor):
        return out.float() if out.is_floating_point() else out
    if isinstance(out, tuple) and hasattr(out, "_replace"):  # NamedTuple (EncoderOutput)
        return type(out)(*(_as_fp32(v) for v in out))
    if isinstance(out, (list, tuple)):
        return type(out)(_as_fp32(v) for v in out)
    if isinstance(out, dict):
        return {k: _as_fp32(v) for k, v in out.items()}
    return out


def _autocast(module: nn.Module, dtype: torch.dtype, precision: str) -> None:
    """``module.forward`` under autocast to ``dtype`` on the device of its inputs, outputs in fp32.

    Set on the instance (not a wrapper module), so the upstream keeps its class, attributes and
    state_dict names (``encoder.groups.0...``): checkpoints, featurizers and analysis tools see the same model.
    """
    forward = module.forward

    @functools.wraps(forward)
    def run(*args: Any, **kwargs: Any) -> Any:
        tensors = [a for a in (*args, *kwargs.values()) if isinstance(a, torch.Tensor)]
        kind = tensors[0].device.type if tensors else next(module.parameters()).device.type
        if precision == "fp16" and kind != "cuda":
            raise PrecisionError(f"precision fp16 needs a CUDA device (autocast fp16), got inputs on {kind}")
        with torch.autocast(kind, dtype=dtype):
            out = forward(*args, **kwargs)
        return _as_fp32(out)

    module.forward = run  # per-instance: see the docstring


def apply_precision(upstream: nn.Module, precision: str | None, device: torch.device | str | None = None) -> nn.Module:
    """``upstream`` set to run in ``precision`` (fp32, bf16, fp16, int8) on ``device`` (checked by
    :func:`check_precision`; None: the CPU for int8, CUDA if any for fp16), changed in place and
    returned; its feature front end stays fp32.

    The encoder (``upstream.encoder``) is what changes; an upstream without one (the fbank baseline)
    has nothing to change, and a plugin upstream of another shape is quantized / autocast whole.
    The precision is recorded as ``upstream.precision``; setting one twice is an error (int8 on int8,
    or autocast twice, would quietly do something else)."""
    precision = check_precision(precision or "fp32", device)
    if precision == "fp32":
        return upstream
    previous = getattr(upstream, "precision", "fp32")
    if previous != "fp32":
        raise PrecisionError(f"this upstream already runs in {previous}: load it again for {precision}")
    upstream.eval()  # frozen inference: dropout must not reach the features
    has_front_end = hasattr(upstream, "features")
    target = getattr(upstream, "encoder", None)
    if target is None and not has_front_end:
        target = upstream  # a plugin upstream: all of it
    if target is not None:
        if precision == "int8":
            _quantize_int8(target.cpu())  # in place: the Linear children are swapped, the encoder object stays
        else:
            _autocast(target, _AUTOCAST_DTYPES[precision], precision)
    setattr(upstream, "precision", precision)  # noqa: B010 - a plain attribute (nn.Module types its attributes as tensors)
    return upstream
