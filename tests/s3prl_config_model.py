"""s3prl's pretraining model config (its ``pretrain/<upstream>/config_model.yaml``: the transformer,
task and audio sections) at a test's size. tests/upstream/s3prl_pretrain_checkpoints.py writes it into
checkpoints as s3prl does; tests/pretrain/test_s3prl_flags.py gives it to ``run_pretrain.py -g``."""

from __future__ import annotations


def config_model(
    layers: int = 3,
    share: bool = True,
    target: str = "mel",
    sequence_length: int = 1500,
    hidden: int = 64,
    heads: int = 4,
    ffn: int = 128,
) -> dict:
    return {
        "transformer": {
            "input_dim": -1,
            "hidden_size": hidden,
            "num_hidden_layers": layers,
            "num_attention_heads": heads,
            "intermediate_size": ffn,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "initializer_range": 0.02,
            "layer_norm_eps": 1e-12,
            "share_layer": share,
            "pre_layer_norm": False,
        },
        "task": {
            "loss": "L1",
            "sequence_length": sequence_length,
            "position_encoding_size": hidden,
            "mask_proportion": 0.15,
            "mask_consecutive_min": 7,
            "mask_consecutive_max": 7,
            "mask_allow_overlap": True,
            "mask_bucket_ratio": 1.5,
            "mask_frequency": 0,
            "noise_proportion": 0.0,
        },
        "audio": {
            "target_level": -25,
            "win_ms": 25,
            "hop_ms": 10,
            "n_freq": 201,
            "n_mels": 80,
            "n_mfcc": 13,
            "input": {"feat_type": "mel", "channel": 0, "log": True, "delta": 0, "cmvn": True},
            "target": {"feat_type": target, "channel": 1, "log": True, "delta": 0, "cmvn": True},
        },
    }
