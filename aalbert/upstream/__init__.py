"""Mockingjay / Audio ALBERT upstream: features, encoder, factories, s3prl checkpoints."""

from aalbert.upstream.checkpoint import CheckpointError, save_s3prl_checkpoint, upstream_from_checkpoint
from aalbert.upstream.factory import (
    aalbert_3l,
    aalbert_6l,
    aalbert_12l,
    build_upstream,
    mockingjay_3l,
    mockingjay_6l,
    mockingjay_12l,
)
from aalbert.upstream.fbank import FbankUpstream
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.features import ExtractedFeatures, FeatureExtractor
from aalbert.upstream.model import (
    EncoderOutput,
    SpecPredictionHead,
    TransformerConfig,
    TransformerEncoder,
    Upstream,
    build_spec_head,
    stack_frames,
)
from aalbert.upstream.s3prl_nn import S3PRLUpstreamAdapter

__all__ = [
    "CheckpointError",
    "save_s3prl_checkpoint",
    "upstream_from_checkpoint",
    "aalbert_3l",
    "aalbert_6l",
    "aalbert_12l",
    "mockingjay_3l",
    "mockingjay_6l",
    "mockingjay_12l",
    "build_upstream",
    "FbankUpstream",
    "ExtractedFeatures",
    "FeatureConfig",
    "FeatureExtractor",
    "FeatureSpec",
    "EncoderOutput",
    "SpecPredictionHead",
    "TransformerConfig",
    "TransformerEncoder",
    "Upstream",
    "build_spec_head",
    "stack_frames",
    "S3PRLUpstreamAdapter",
]
