"""Mockingjay / Audio ALBERT upstream: features, encoder, factories, s3prl checkpoints.

The names below are imported when first used (PEP 562), so that the torch-free modules of this
package (model_config.py, param_count.py, pretrained_table.py: what ``aalbert hub list`` reads)
import no torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checkpoint import CheckpointError, save_s3prl_checkpoint, upstream_from_checkpoint
    from .factory import (
        aalbert_3l,
        aalbert_6l,
        aalbert_12l,
        build_upstream,
        mockingjay_3l,
        mockingjay_6l,
        mockingjay_12l,
    )
    from .fbank import FbankUpstream
    from .feature_config import FeatureConfig, FeatureSpec
    from .features import ExtractedFeatures, FeatureExtractor
    from .model import EncoderOutput, SpecPredictionHead, TransformerEncoder, Upstream, build_spec_head, stack_frames
    from .model_config import TransformerConfig
    from .s3prl_nn import S3PRLUpstreamAdapter

_WHERE = {
    "CheckpointError": ".checkpoint",
    "save_s3prl_checkpoint": ".checkpoint",
    "upstream_from_checkpoint": ".checkpoint",
    "aalbert_3l": ".factory",
    "aalbert_6l": ".factory",
    "aalbert_12l": ".factory",
    "mockingjay_3l": ".factory",
    "mockingjay_6l": ".factory",
    "mockingjay_12l": ".factory",
    "build_upstream": ".factory",
    "FbankUpstream": ".fbank",
    "ExtractedFeatures": ".features",
    "FeatureConfig": ".feature_config",
    "FeatureExtractor": ".features",
    "FeatureSpec": ".feature_config",
    "EncoderOutput": ".model",
    "SpecPredictionHead": ".model",
    "TransformerConfig": ".model_config",
    "TransformerEncoder": ".model",
    "Upstream": ".model",
    "build_spec_head": ".model",
    "stack_frames": ".model",
    "S3PRLUpstreamAdapter": ".s3prl_nn",
}
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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name], __name__), name)
