"""torch.hub entry: ``torch.hub.load("<repo>", "aalbert_local", ckpt=path, source="local")``.

Nothing is downloaded: non-local entries build randomly initialised models (see aalbert.hub).
"""

dependencies = ["torch", "torchaudio"]

from aalbert.hub import (  # noqa: E402,F401
    aalbert,
    aalbert_3l,
    aalbert_6l,
    aalbert_12l,
    aalbert_local,
    fbank,
    mockingjay,
    mockingjay_3l,
    mockingjay_6l,
    mockingjay_12l,
    mockingjay_local,
)
