"""torch.hub entry: ``torch.hub.load("<repo>", "aalbert")`` and every other ``aalbert.hub`` name.

``aalbert`` / ``mockingjay`` (and s3prl's names such as ``audio_albert``, ``mockingjay_origin``)
are the published pretrained models, downloaded once into ``torch.hub.get_dir()``;
``*_random`` are randomly initialised; ``local(ckpt=PATH)`` and ``url(ckpt=URL)`` load any
s3prl-format checkpoint (``aalbert_local``, ``mockingjay_local``, ``audio_albert_local`` and the
``*_url`` names are the same two functions under s3prl's names). Every entry takes s3prl's keywords
too (``refresh``, ``options_config``, ``model_config``, ``hooks=None``; aalbert.hub_options says what
each means here). ``aalbert hub list`` (or ``python -m aalbert hub list``) shows them all.
"""

dependencies = ["torch", "torchaudio"]

from aalbert.hub import BUILTIN as _BUILTIN  # noqa: E402

# torch.hub looks entries up as attributes of hubconf: every built-in hub entry, under its name
globals().update(_BUILTIN)
