"""s3prl 0.4.18's own code with today's torchaudio and huggingface_hub: call :func:`install` first.

s3prl 0.4.18, its last release, imports names that torchaudio 2.9 and huggingface_hub 1.0 removed,
so ``import s3prl.hub``, ``import s3prl.nn`` (which imports the hub) and s3prl's downstream runner
(``s3prl.downstream.runner``, ``python -m s3prl.run_downstream``) fail before any of its code runs.
``install()`` puts back each missing name, only where it is absent (a torchaudio or huggingface_hub
that still has it is left alone), so that those imports work:

- ``torchaudio.set_audio_backend``: a no-op. s3prl's upstream modules call it at import and
  run_downstream.py in ``main``; torchaudio >= 2.9 reads audio one way (TorchCodec), there is no
  backend left to choose.
- ``torchaudio.sox_effects``: a module whose functions raise :class:`S3PRLCompatError`. The
  mos_prediction upstream (so ``s3prl.hub``) imports it; only that upstream's and the
  quesst14_dtw task's data use SoX effects, no Mockingjay / Audio ALBERT path does.
- ``huggingface_hub.HfFolder`` / ``huggingface_hub.Repository``: stand-ins that raise
  :class:`S3PRLCompatError` when used. The runner imports them; only ``--hub huggingface`` and
  ``--push_to_hf_hub`` use them.
- ``argparse.Namespace`` as a safe global of ``torch.load``: s3prl's runner reads its own
  checkpoints (``-e``, ``-a``: their ``Args`` is a Namespace) with plain ``torch.load``, which
  torch >= 2.6 makes weights-only. Our own loader (aalbert.checkpoint_file) trusts the same class.

What it does not do, because nothing missing is involved: s3prl's task datasets read audio with
``torchaudio.load``, which torchaudio >= 2.9 hands to the ``torchcodec`` package, and read their
file lists with ``pandas``: neither is a dependency of this toolkit (:func:`missing_for_s3prl_tasks`
names the ones absent).

Importing this module imports nothing heavy and changes nothing; ``install()`` is idempotent.
"""

from __future__ import annotations

import importlib.util
import sys
import types
from typing import Any, NoReturn

from aalbert.errors import AalbertError

# what s3prl's task datasets import beyond s3prl's own requirements (speaker_linear_*_libri,
# phone_linear, timit_phone_*: pandas for their file lists, torchaudio.load -> torchcodec for audio)
S3PRL_TASK_PACKAGES = ("pandas", "torchcodec")


class S3PRLCompatError(AalbertError):
    """s3prl called something that :func:`install` could only stand in for (SoX effects, the HF Hub)."""


def _unavailable(what: str, why: str) -> Any:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise S3PRLCompatError(f"s3prl called {what}, {why}; aalbert.s3prl_compat only lets s3prl import")

    refuse.__name__ = what.rsplit(".", 1)[-1]
    return refuse


def _set_audio_backend(backend: str | None = None) -> None:
    """torchaudio >= 2.9 reads audio through TorchCodec only: there is no backend to choose."""


def _sox_effects_module() -> types.ModuleType:
    module = types.ModuleType("torchaudio.sox_effects", "Stand-in made by aalbert.s3prl_compat: SoX is gone.")
    why = "which torchaudio 2.9 removed (SoX effects)"
    for name in ("apply_effects_tensor", "apply_effects_file", "effect_names"):
        setattr(module, name, _unavailable(f"torchaudio.sox_effects.{name}", why))
    return module


def _hub_stand_in(name: str) -> type:
    why = "which huggingface_hub 1.0 removed (s3prl's --hub huggingface / --push_to_hf_hub)"
    refuse = _unavailable(f"huggingface_hub.{name}", why)
    # the runner calls HfFolder.get_token() / Repository(...): both are refused
    return type(name, (), {"__init__": refuse, "get_token": staticmethod(refuse), "save_token": staticmethod(refuse)})


def install() -> list[str]:
    """Put back what s3prl 0.4.18 imports and current torchaudio / huggingface_hub lack.

    Returns what this call added ([] when all was there: installed already, or older libraries).
    Needs torchaudio; huggingface_hub is only patched when it is installed.
    """
    import torch
    import torchaudio

    from aalbert.checkpoint_file import KNOWN_SAFE_GLOBALS

    added = []
    if not hasattr(torchaudio, "set_audio_backend"):
        torchaudio.set_audio_backend = _set_audio_backend
        added.append("torchaudio.set_audio_backend")
    if "torchaudio.sox_effects" not in sys.modules and importlib.util.find_spec("torchaudio.sox_effects") is None:
        sys.modules["torchaudio.sox_effects"] = torchaudio.sox_effects = _sox_effects_module()
        added.append("torchaudio.sox_effects")
    if importlib.util.find_spec("huggingface_hub") is not None:
        import huggingface_hub

        for name in ("HfFolder", "Repository"):
            if not hasattr(huggingface_hub, name):
                setattr(huggingface_hub, name, _hub_stand_in(name))
                added.append(f"huggingface_hub.{name}")
    allowed = torch.serialization.get_safe_globals()
    for cls in KNOWN_SAFE_GLOBALS:
        if cls not in allowed:
            torch.serialization.add_safe_globals([cls])
            added.append(f"torch.load safe global {cls.__module__}.{cls.__qualname__}")
    return added


def missing_for_s3prl_tasks() -> list[str]:
    """The packages s3prl's own task datasets need that are not installed (see the module docstring)."""
    return [name for name in S3PRL_TASK_PACKAGES if importlib.util.find_spec(name) is None]
