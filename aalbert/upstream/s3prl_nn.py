"""Our upstreams under s3prl's newer ``s3prl.nn`` interface.

s3prl 0.4.18 has two upstream interfaces, and their featurizers read different things:

* ``s3prl.upstream.interfaces.Featurizer`` (the SUPERB runner's): ``upstream(wavs)`` returns
  ``{"hidden_states": [...], ...}`` and ``upstream.get_downsample_rates(key)`` gives samples per
  frame. Every aalbert upstream (``Upstream``, ``FbankUpstream``) is such an upstream as it is.
* ``s3prl.nn.Featurizer``: built over ``s3prl.nn.S3PRLUpstream``, which wraps an upstream of the
  first kind into ``forward(wavs (B, T), wavs_len (B,)) -> (hidden states, their lengths)``, each
  a list, and says ``num_layers`` (the number of HIDDEN STATES), ``hidden_sizes`` and
  ``downsample_rates`` (one per hidden state). The featurizer weights ``num_layers`` states.

Our ``num_layers`` counts Transformer layers, the papers' count: ``hidden_states`` holds
``num_layers + 1`` tensors (the input representation, then each layer; the fbank baseline has 0
layers and 1 state). The hub, the analysis and the pretrained-model checks read it so. Giving it
s3prl.nn's meaning would rename every model's depth, while giving an upstream two meanings of one
name would let ``s3prl.nn.Featurizer`` silently drop the last layer. So our upstreams keep theirs,
and ``S3PRLUpstreamAdapter`` speaks s3prl.nn's, as ``S3PRLUpstream`` does for s3prl's own models
(which it loads by hub name, so it cannot wrap ours).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from aalbert.errors import BadInputError
from aalbert.upstream.sizes import UpstreamSizes


class S3PRLUpstreamAdapter(nn.Module):
    """``upstream`` (any aalbert upstream) with ``s3prl.nn.S3PRLUpstream``'s interface::

        adapter = S3PRLUpstreamAdapter(aalbert.hub.load_upstream("aalbert"))
        featurizer = s3prl.nn.Featurizer(adapter)
        hs, hs_len = featurizer(*adapter(wavs, wavs_len))

    ``num_layers`` here is s3prl.nn's: the number of hidden states (``upstream.num_layers + 1``).
    Lengths are the upstream's own valid frame counts.
    """

    def __init__(self, upstream: nn.Module):
        super().__init__()
        self.upstream = upstream

    @property
    def num_layers(self) -> int:
        """Hidden states per forward (s3prl.nn's meaning): the input representation and each layer."""
        return UpstreamSizes.of(self.upstream).num_hidden_states

    @property
    def hidden_sizes(self) -> list[int]:
        return [UpstreamSizes.of(self.upstream).hidden_size] * self.num_layers

    @property
    def downsample_rates(self) -> list[int]:
        """Samples per frame of each hidden state (16 kHz input)."""
        return [UpstreamSizes.of(self.upstream).downsample_rate] * self.num_layers

    def forward(self, wavs: Tensor, wavs_len: Tensor) -> tuple[list[Tensor], list[Tensor]]:
        """``wavs`` (B, T) or (B, T, 1) zero-padded, ``wavs_len`` (B,) valid samples -> every hidden
        state (B, T', H) and, for each, the valid frames (B,)."""
        name = getattr(self.upstream, "name", type(self.upstream).__name__)
        if wavs.dim() == 3 and wavs.size(-1) == 1:
            wavs = wavs.squeeze(-1)
        wavs_len = torch.as_tensor(wavs_len)
        if wavs.dim() != 2 or wavs_len.shape != (wavs.size(0),):
            raise BadInputError(
                f"{name}: expected wavs (batch, samples) and wavs_len (batch,), got "
                f"{tuple(wavs.shape)} and {tuple(wavs_len.shape)}"
            )
        out = self.upstream([wav[: int(n)] for wav, n in zip(wavs, wavs_len)])
        hidden = list(out["hidden_states"])
        if len(hidden) != self.num_layers:
            raise BadInputError(
                f"{name}: gave {len(hidden)} hidden states, but num_layers "
                f"{self.upstream.num_layers} promises {self.num_layers} (num_layers + 1)"
            )
        return hidden, [out["lengths"]] * len(hidden)
