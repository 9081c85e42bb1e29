"""torch.hub entry: ``torch.hub.load("<repo>", "aalbert")`` and every other ``aalbert.hub`` name.

``aalbert`` / ``mockingjay`` (and s3prl's names such as ``audio_albert``, ``mockingjay_origin``)
are the published pretrained models, downloaded once into ``torch.hub.get_dir()``;
``*_random`` are randomly initialised; ``*_local(ckpt=PATH)`` and ``*_url(ckpt=URL)`` load any
s3prl-format checkpoint. ``python -m aalbert.hub list`` shows them all.
"""

dependencies = ["torch", "torchaudio"]

from aalbert.hub import HUB_ENTRIES as _HUB_ENTRIES  # noqa: E402

globals().update(_HUB_ENTRIES)
