"""What the extract tests share: a tiny s3prl-format checkpoint (2 layers, 32 wide)."""

from __future__ import annotations

from pathlib import Path

import torch


def tiny_checkpoint(path: Path) -> Path:
    from aalbert.upstream.checkpoint import save_s3prl_checkpoint
    from aalbert.upstream.feature_config import FeatureConfig
    from aalbert.upstream.features import FeatureExtractor
    from aalbert.upstream.model import TransformerEncoder, build_spec_head
    from aalbert.upstream.model_config import TransformerConfig

    features = FeatureConfig()
    extractor = FeatureExtractor(features)
    torch.manual_seed(0)
    config = TransformerConfig(
        input_dim=extractor.input_dim, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64
    )
    head = build_spec_head(config, extractor.target_dim)
    return save_s3prl_checkpoint(path, TransformerEncoder(config), head, features, step=0)
