"""The Mockingjay / Audio ALBERT encoder and the waveform-in upstream around it.

One encoder class serves both models: layers are drawn from ``num_hidden_groups`` weight
groups, ALBERT-style (layer ``i`` uses group ``i * groups // layers``). ``groups == layers``
(or None) is Mockingjay, ``1`` is Audio ALBERT, anything between shares partially. A shared
group is one module, so its parameters appear once in ``parameters()`` and ``state_dict()``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor, nn

from aalbert.audio import SAMPLE_RATE, check_waves
from aalbert.padding import valid_mask
from aalbert.upstream import chunking
from aalbert.upstream.components import InputRepresentation, SpecPredictionHead, TransformerLayer, init_bert_weights
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.features import FeatureExtractor
from aalbert.upstream.model_config import TransformerConfig  # torch-free (aalbert hub list reads it)

__all__ = [
    "TransformerConfig",  # defined in model_config.py (torch-free), re-exported
    "TransformerEncoder",
    "EncoderOutput",
    "SpecPredictionHead",
    "Upstream",
    "stack_frames",
    "build_spec_head",
]


class EncoderOutput(NamedTuple):
    hidden_states: list[Tensor]  # L + 1 tensors (B, T', H): input representation, then each layer
    lengths: Tensor  # (B,) valid frames at the stacked rate
    attentions: list[Tensor] | None  # L tensors (B, heads, T', T') when asked for


def stack_frames(feats: Tensor, lengths: Tensor, factor: int) -> tuple[Tensor, Tensor]:
    """Concatenate every ``factor`` consecutive frames: (B, T, D) -> (B, T // factor, D * factor).

    Like s3prl's ``down_sample_frames`` the trailing ``T % factor`` frames are dropped, and
    each utterance keeps ``length // factor`` frames, so a padded batch gives every utterance
    the frames it would get alone.
    """
    if factor == 1:
        return feats, lengths
    B, T, D = feats.shape
    kept = T // factor
    stacked = feats[:, : kept * factor].reshape(B, kept, D * factor)
    return stacked, torch.div(lengths, factor, rounding_mode="floor")


class TransformerEncoder(nn.Module):
    def __init__(self, config: TransformerConfig):
        super().__init__()
        self.config = config
        c = config
        self.input = InputRepresentation(
            c.input_dim * c.stacking, c.hidden_size, c.layer_norm_eps, c.hidden_dropout_prob
        )
        self.groups = nn.ModuleList(
            TransformerLayer(
                c.hidden_size,
                c.num_attention_heads,
                c.intermediate_size,
                c.hidden_act,
                c.hidden_dropout_prob,
                c.attention_probs_dropout_prob,
                c.layer_norm_eps,
            )
            for _ in range(c.groups)
        )
        self.layer_groups = [c.group_of(i) for i in range(c.num_hidden_layers)]
        self.apply(lambda m: init_bert_weights(m, c.initializer_range))

    @property
    def layers(self) -> list[TransformerLayer]:
        """The layer applied at each depth (shared groups repeat)."""
        return [self.groups[g] for g in self.layer_groups]  # type: ignore[misc]  # torch types ModuleList items as Module

    def forward(
        self, feats: Tensor, lengths: Tensor, output_attentions: bool = False, max_length: int = 0
    ) -> EncoderOutput:
        """``feats`` (B, T, input_dim) zero-padded, ``lengths`` (B,) in unstacked frames.

        ``max_length`` > 0: an utterance longer than that many (stacked) frames is forwarded in
        pieces as s3prl does (see aalbert.upstream.chunking); 0 attends over whole utterances.
        """
        feats, lengths = stack_frames(feats, lengths, self.config.stacking)
        plan = chunking.plan_chunks(lengths, max_length)
        if plan is None:
            return self._forward_stacked(feats, lengths, output_attentions)
        out = self._forward_stacked(chunking.cut(feats, plan), plan.length, output_attentions)
        hidden = [chunking.join(h, plan, feats) for h in out.hidden_states]
        attentions = (
            None
            if out.attentions is None
            else [chunking.join_attentions(a, plan, feats.size(0), feats.size(1)) for a in out.attentions]
        )
        return EncoderOutput(hidden, lengths, attentions)

    def last_hidden_at(self, feats: Tensor, lengths: Tensor, frames: Tensor) -> Tensor:
        """The last hidden state at ``frames`` only: (N, H) for a (B, T') bool selection at the stacked
        rate, rows in ``hidden_states[-1][frames]`` order, whole utterances attended (no chunking).

        What pretraining needs: its loss sees the masked frames only, so the last layer computes
        keys and values for every frame but queries, attention, output and feed-forward for the
        selected ones (15 % of the frames by default): a third of the encoder's work at 3 layers.
        """
        feats, lengths = stack_frames(feats, lengths, self.config.stacking)
        mask, pad = self._masks(lengths, feats)
        x = self.input(feats)
        layers = self.layers
        for layer in layers[:-1]:
            x, _ = layer(x, mask)
            if pad is not None:
                x = x.masked_fill(pad, 0.0)
        counts = frames.sum(dim=1)
        # each row's selected positions first, ascending (a stable sort), cut to the longest row
        queries = torch.sort(frames.to(torch.uint8), dim=1, descending=True, stable=True).indices
        queries = queries[:, : int(counts.max())]
        slots = torch.arange(queries.size(1), device=frames.device)[None, :] < counts[:, None]
        x, _ = layers[-1](x, mask, queries=queries)
        return x[slots]

    def _masks(self, lengths: Tensor, feats: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """The attention's key mask (B, 1, 1, T) and the padded frames (B, T, 1), None when nothing is padded."""
        valid = valid_mask(lengths.to(feats.device), feats.size(1))
        # no mask at all when nothing is padded: SDPA's fastest path
        mask = None if bool(valid.all()) else valid[:, None, None, :]
        pad = None if mask is None else ~valid[:, :, None]
        return mask, pad

    def _forward_stacked(self, feats: Tensor, lengths: Tensor, output_attentions: bool) -> EncoderOutput:
        mask, pad = self._masks(lengths, feats)
        x = self.input(feats)
        hidden = [x if pad is None else x.masked_fill(pad, 0.0)]
        attentions: list[Tensor] | None = [] if output_attentions else None
        for layer in self.layers:
            x, probs = layer(x, mask, output_attentions)
            if pad is not None:
                # padded frames are zero in the output (they never reach valid frames: keys are masked)
                x = x.masked_fill(pad, 0.0)
            hidden.append(x)
            if attentions is not None:
                attentions.append(probs)
        return EncoderOutput(hidden, lengths, attentions)


def build_spec_head(config: TransformerConfig, output_dim: int) -> SpecPredictionHead:
    """The pretraining head for ``config``, BERT-initialised."""
    head = SpecPredictionHead(config.hidden_size, output_dim, config.stacking, config.hidden_act, config.layer_norm_eps)
    head.apply(lambda m: init_bert_weights(m, config.initializer_range))
    return head


class Upstream(nn.Module):
    """Waves in, hidden states out: FeatureExtractor + TransformerEncoder (s3prl upstream contract).

    ``num_layers`` counts Transformer layers: ``hidden_states`` holds ``num_layers + 1`` tensors.
    ``downsample_rate`` is samples per output frame (160 x ``stacking``), as s3prl's
    ``get_downsample_rates`` means it. ``s3prl.upstream.interfaces.Featurizer`` takes it as it is;
    ``s3prl.nn.Featurizer`` takes ``aalbert.upstream.S3PRLUpstreamAdapter(upstream)`` (see there why).
    """

    def __init__(
        self,
        feature_config: FeatureConfig,
        encoder_config: TransformerConfig,
        name: str = "upstream",
        encoder: TransformerEncoder | None = None,
        max_input_length: int = 0,
    ):
        """``max_input_length``: s3prl's ``task.sequence_length`` in input (unstacked) frames; longer
        utterances are forwarded in pieces as s3prl does. 0 forwards whole utterances."""
        super().__init__()
        if max_input_length < 0:
            raise ValueError(f"{name}: max_input_length must be 0 (off) or positive, got {max_input_length}")
        self.max_input_length = int(max_input_length)
        self.name = name
        self.feature_config = feature_config
        self.encoder_config = encoder_config
        self.features = FeatureExtractor(feature_config)
        if self.features.input_dim != encoder_config.input_dim:
            raise ValueError(
                f"{name}: features give {self.features.input_dim}-dim inputs but the encoder expects "
                f"input_dim={encoder_config.input_dim}"
            )
        # a given (e.g. checkpoint-loaded) encoder avoids initialising weights only to overwrite them
        self.encoder = encoder if encoder is not None else TransformerEncoder(encoder_config)
        if self.encoder.config != encoder_config:
            raise ValueError(f"{name}: the given encoder's config differs from encoder_config")
        self.hidden_size = encoder_config.hidden_size
        self.num_layers = encoder_config.num_hidden_layers
        self.stacking = encoder_config.stacking
        self.downsample_rate = self.features.hop_length * self.stacking
        # enough samples for the STFT and for one stacked frame
        self.min_samples = max(self.features.min_samples, self.features.hop_length * (self.stacking - 1))

    def get_downsample_rates(self, key: str = "hidden_states") -> int:
        return self.downsample_rate

    def forward(self, wavs: list[Tensor], output_attentions: bool = False, sample_rate: int = SAMPLE_RATE) -> dict:
        if sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"{self.name}: sample_rate is {sample_rate} Hz, expected {SAMPLE_RATE} Hz (resample first)"
            )
        check_waves(wavs, min_samples=self.min_samples)
        feats = self.features(wavs)
        # the encoder counts stacked frames; at least one frame per piece
        max_length = -(-self.max_input_length // self.stacking) if self.max_input_length else 0
        out = self.encoder(feats.inputs, feats.lengths, output_attentions, max_length=max_length)
        result = {
            "hidden_states": out.hidden_states,
            "last_hidden_state": out.hidden_states[-1],
            "lengths": out.lengths,
        }
        if output_attentions:
            result["attentions"] = out.attentions
        return result
