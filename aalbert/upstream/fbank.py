"""Parameter-free log-mel baseline with the upstream contract (``hidden_states = [fbank]``)."""

from __future__ import annotations

from torch import Tensor, nn

from aalbert.audio import SAMPLE_RATE, check_waves
from aalbert.upstream.feature_config import FeatureConfig, FeatureSpec
from aalbert.upstream.features import FeatureExtractor


class FbankUpstream(nn.Module):
    """The encoder's input features as the only "layer": the floor every upstream should beat."""

    def __init__(self, feature_config: FeatureConfig | None = None, name: str = "fbank"):
        super().__init__()
        self.name = name
        # No per-utterance CMVN by default (as s3prl's fbank upstream): it would zero every
        # utterance's mean, so mean-pooled utterance tasks (speaker ID) would see nothing.
        self.feature_config = (
            feature_config
            if feature_config is not None
            else FeatureConfig(input=FeatureSpec("mel", log=True, delta=0, cmvn=False), target=None)
        )
        self.features = FeatureExtractor(self.feature_config)
        self.hidden_size = self.features.input_dim
        self.num_layers = 0
        self.stacking = 1
        self.downsample_rate = self.features.hop_length

    def get_downsample_rates(self, key: str = "hidden_states") -> int:
        return self.downsample_rate

    def forward(self, wavs: list[Tensor], output_attentions: bool = False, sample_rate: int = SAMPLE_RATE) -> dict:
        if output_attentions:
            raise ValueError(f"{self.name}: a feature upstream has no attention to return")
        if sample_rate != SAMPLE_RATE:
            raise ValueError(
                f"{self.name}: sample_rate is {sample_rate} Hz, expected {SAMPLE_RATE} Hz (resample first)"
            )
        check_waves(wavs, min_samples=self.features.min_samples)
        feats = self.features(wavs)
        return {"hidden_states": [feats.inputs], "last_hidden_state": feats.inputs, "lengths": feats.lengths}
