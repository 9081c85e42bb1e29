"""What s3prl 0.4.18's own Mockingjay / Audio ALBERT upstream can load of ours, and why not the rest.

Every checkpoint we write is s3prl's format and every one loads here; s3prl's upstream
(``s3prl.upstream.mockingjay`` / ``audio_albert``, which s3prl's hub, ``s3prl.nn.S3PRLUpstream``
and its runner use) computes our hidden states only where it can build our model. Limits of its
design, not of how we write the file:

- **Frame stacking.** s3prl 0.4.18 has none: its upstream sizes the input layer from the audio
  config's features (80 for log-mel) and feeds the encoder one 10 ms frame per position; its
  ``TransformerConfig`` and its pretraining never read ``transformer.downsample_rate`` (a key left
  from the original Mockingjay code), so none of s3prl's own checkpoints stacks. A stacked
  checkpoint's input layer takes 3 x 80 features: s3prl fails with a size mismatch. No other
  way of writing it helps: its feature extractors cannot concatenate frames, and its positions,
  attention mask and ``get_downsample_rates`` (160) are per frame, so no file it loads would
  compute the hidden states of a model that sees 30 ms frames.
- **Wave level normalisation off** (``audio.target_level: 'None'``): s3prl's pretraining data
  honours it, its upstream does not (it divides by the string), so it fails to run.
- **A hop other than 10 ms** (``audio.hop_ms``, or the Kaldi front end's ``frame_shift``): s3prl
  loads it and computes the same hidden states, but reports 160 samples per frame whatever the hop,
  so its featurizer and tasks misplace frames.

Weight sharing in any number of groups loads: we write every layer, s3prl reads them as
unshared layers (same hidden states; fine-tuned in s3prl, the layers of a group drift apart).
Torch-free: configs only.
"""

from __future__ import annotations

from dataclasses import dataclass

from aalbert.audio_rate import HOP_SAMPLES, SAMPLE_RATE
from aalbert.upstream.feature_config import FeatureConfig
from aalbert.upstream.model_config import TransformerConfig

# s3prl's mockingjay get_downsample_rates returns 160 (10 ms), whatever the features' hop
S3PRL_HOP_SAMPLES = HOP_SAMPLES


class S3PRLCannotLoadWarning(UserWarning):
    """A checkpoint in s3prl's format that s3prl 0.4.18's own upstream cannot use as it is."""


@dataclass(frozen=True)
class S3PRLProblem:
    what: str  # why s3prl's upstream cannot use the checkpoint
    fix: str  # the setting that makes one it can


def s3prl_load_problems(encoder_config: TransformerConfig, feature_config: FeatureConfig) -> list[S3PRLProblem]:
    """Why s3prl 0.4.18's upstream cannot use a checkpoint of these configs ([] when it can)."""
    problems = []
    if encoder_config.stacking != 1:
        problems.append(
            S3PRLProblem(
                f"it stacks {encoder_config.stacking} frames (model.stacking, s3prl's transformer.downsample_rate) "
                "and s3prl's upstream has no frame stacking",
                "model.stacking=1",
            )
        )
    if feature_config.kaldi is None and feature_config.target_level is None:
        problems.append(
            S3PRLProblem(
                "audio.target_level is off and s3prl's upstream always normalises the level", "audio.target_level=-25"
            )
        )
    kaldi = feature_config.kaldi
    hop = kaldi.shift if kaldi is not None else round(feature_config.hop_ms * SAMPLE_RATE / 1000)
    if hop != S3PRL_HOP_SAMPLES:
        ms = 1000 * S3PRL_HOP_SAMPLES / SAMPLE_RATE
        setting = f"the Kaldi front end's frame_shift={ms:g}" if kaldi is not None else f"audio.hop_ms={ms:g}"
        problems.append(
            S3PRLProblem(
                f"its frames are {1000 * hop / SAMPLE_RATE:g} ms apart and s3prl's upstream reports {ms:g} ms, "
                "so s3prl's featurizer and tasks misplace them",
                setting,
            )
        )
    return problems


def s3prl_load_message(problems: list[S3PRLProblem]) -> str:
    """One line for the checkpoints that ``problems`` (from :func:`s3prl_load_problems`) describe."""
    return (
        "s3prl 0.4.18's mockingjay / audio_albert upstream cannot use the checkpoints written with these "
        f"settings: {'; '.join(p.what for p in problems)}. For checkpoints it can use, set "
        f"{', '.join(p.fix for p in problems)}. aalbert loads them as they are (-u aalbert_local -k CKPT)."
    )
