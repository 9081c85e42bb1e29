"""The keyword arguments s3prl's mockingjay and audio_albert hub functions take, for every hub entry:
``torch.hub.load(..., options_config=None)``, ``refresh=True`` and what s3prl's downstream runner
passes to every upstream (``ckpt``, ``model_config``, ``refresh``) mean here what they mean there,
or are ignored where s3prl ignores them too; none is a TypeError.

* ``refresh``: download the checkpoint again (pretrained names and ``url``); a local file and random
  weights have nothing to download: ignored.
* ``model_config``: s3prl's runner passes ``-g``'s file; its mockingjay / audio_albert upstreams
  leave it unused (the checkpoint's config builds the model), and so do these.
* ``options_config``: s3prl's options YAML (``upstream/mockingjay/options.yaml``). ``dropout`` (a
  number) sets the encoder's hidden and attention dropout, as s3prl does; ``ckpt_file`` and
  ``select_layer`` are set by s3prl's expert itself, so ignored; every other option must keep s3prl's
  default, or it is a ConfigError saying what to use instead.
* ``hooks`` / ``hook_postprocess`` (s3prl's UpstreamBase): None only; every layer's output is in
  ``hidden_states`` already.

Beyond s3prl: ``precision="fp32"|"bf16"|"fp16"|"int8"`` (``quantize="int8"`` is the same as
``precision="int8"``) runs the model in fewer bits for inference: aalbert.upstream.precision.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from torch import nn

from aalbert.config import ConfigError
from aalbert.config_layers import load_yaml
from aalbert.upstream.components import SelfAttention
from aalbert.upstream.precision import apply_precision, canonical_precision, check_precision

S3PRL_KEYWORDS = ("options_config", "model_config", "hooks", "hook_postprocess")
OPTIONS_DOC = (
    " s3prl's keywords are accepted too: refresh, model_config (unused, as in s3prl), "
    "options_config (its dropout applies) and hooks=None (see aalbert.hub_options)."
    ' precision="fp32"|"bf16"|"fp16"|"int8" (or quantize="int8"): inference in fewer bits '
    "(aalbert.upstream.precision)."
)
# s3prl's options and their defaults (upstream/mockingjay/expert.py), and why another value is refused
_OPTIONS: dict[str, tuple[bool, str]] = {
    "load_pretrain": (True, "random weights are the *_random entries (aalbert_3l_random, mockingjay_3l_random, ...)"),
    "no_grad": (False, "a downstream freezes the upstream unless it fine-tunes it (-f); torch.no_grad() does it here"),
    "spec_aug": (False, "SpecAugment of the upstream's input is not offered"),
    "output_hidden_states": (True, "hidden_states always holds every layer's output"),
    "permute_input": (False, "inputs and outputs are (batch, time, feature) only"),
    "weighted_sum": (False, "the downstream's featurizer weighs the hidden states (-s hidden_states)"),
}
_IGNORED = ("ckpt_file", "select_layer", "spec_aug_prev")  # set by s3prl's expert itself / used with spec_aug only


def _truth(value: Any) -> bool | None:
    """s3prl's options are strings 'True' / 'False' (read with strtobool); None: neither."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "on", "t"):
        return True
    if text in ("false", "0", "no", "n", "off", "f"):
        return False
    return None


def read_options_config(path: str | Path) -> float | None:
    """The dropout s3prl's options file sets (None: the checkpoint's own); a ConfigError for an option
    that would make the model other than ours."""
    options = load_yaml(path)
    for key, value in options.items():
        if key in _IGNORED or key == "dropout":
            continue
        if key not in _OPTIONS:
            raise ConfigError(f"options_config {path}: {key} is not one of s3prl's options ({', '.join(_OPTIONS)})")
        default, why = _OPTIONS[key]
        if _truth(value) is not default:
            raise ConfigError(f"options_config {path}: {key}: {value!r} is not offered ({why})")
    dropout = options.get("dropout", "default")
    if str(dropout) == "default":
        return None
    try:
        return float(dropout)
    except (TypeError, ValueError) as err:
        raise ConfigError(f"options_config {path}: dropout must be a number or 'default', got {dropout!r}") from err


def set_dropout(model: nn.Module, p: float) -> None:
    """s3prl's ``dropout`` option: the encoder's hidden and attention dropout both become ``p``."""
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = p
        elif isinstance(module, SelfAttention):  # its dropout is a probability given to SDPA, not a module
            module.dropout = p


def precision_keywords(precision: str | None, quantize: str | None) -> str | None:
    """The one precision ``precision=`` and ``quantize=`` ask for (``quantize="int8"`` is the issue's
    spelling of ``precision="int8"``); both given and different is a ConfigError."""
    if quantize is None or str(quantize).lower() in ("none", "false", "fp32"):
        return precision
    if str(quantize).lower() != "int8":
        raise ConfigError(f'quantize={quantize!r}: only quantize="int8" is offered (or precision="bf16"/"fp16")')
    if precision is not None and canonical_precision(precision) != "int8":
        raise ConfigError(f"quantize={quantize!r} and precision={precision!r} ask for two precisions: give one")
    return "int8"


def s3prl_keywords(entry: Callable[..., nn.Module], downloads: bool) -> Callable[..., nn.Module]:
    """``entry`` taking s3prl's keywords as well (see the module's doc); ``downloads``: whether
    ``refresh`` means something to it (else it is dropped)."""

    @functools.wraps(entry)
    def wrapped(
        *args: Any,
        options_config: str | Path | None = None,
        model_config: Any = None,
        hooks: Any = None,
        hook_postprocess: Any = None,
        precision: str | None = None,
        quantize: str | None = None,
        **kwargs: Any,
    ) -> nn.Module:
        del model_config  # unused, as s3prl's mockingjay / audio_albert upstreams leave it
        if hooks is not None or hook_postprocess is not None:
            raise ConfigError("hooks are not offered: every layer's output is in the upstream's hidden_states")
        if not downloads:
            kwargs.pop("refresh", None)  # s3prl's runner passes it to every upstream
        dropout = read_options_config(options_config) if options_config is not None else None
        wanted = precision_keywords(precision, quantize)
        if wanted is not None:
            check_precision(wanted)  # before a download or a build: a precision this machine cannot run
        model = entry(*args, **kwargs)
        if dropout is not None:
            set_dropout(model, dropout)
        if wanted is not None:
            apply_precision(model, wanted)
        return model

    wrapped.__doc__ = (entry.__doc__ or "") + OPTIONS_DOC
    return wrapped
