"""The published Mockingjay and Audio ALBERT checkpoints, by the names s3prl gives them.

One table, read from s3prl 0.4.18's ``upstream/mockingjay/hubconf.py`` and
``upstream/audio_albert/hubconf.py``: the same names (and s3prl's short aliases) mean the same
weights here. ``aalbert`` is s3prl's default ``audio_albert`` and ``mockingjay`` its default
``mockingjay``. Files are downloaded once into torch's hub cache (``torch.hub.get_dir()``,
i.e. ``$TORCH_HOME/hub``) under ``aalbert/<name>/`` and loaded weights-only; s3prl published
no checksums, so each file's sha256 is recorded at its first download (see aalbert.download).

Sizes are those of the models: "Base" is 3 layers, "Large" 12, hidden 768, 12 heads, FFN 3072,
80-dim log-mel input, no frame stacking (s3prl 0.4.18's model cannot stack). The download also
holds the optimizer state, about three times the weights.

The table is torch-free (``aalbert hub list`` reads it); downloading and loading a model is
aalbert.upstream.pretrained.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from aalbert.errors import BadInputError
from aalbert.torch_hub_dir import torch_hub_dir

_HF = "https://huggingface.co/s3prl"


@dataclass(frozen=True)
class PretrainedModel:
    name: str  # s3prl's full name
    url: str
    layers: int
    shared: bool  # one weight group for all layers (Audio ALBERT)
    target: str  # what pretraining reconstructed
    hours: int  # unlabelled LibriSpeech hours
    steps: int
    sequence_length: int  # the recipe's task.sequence_length (the file's own value is what is used)
    params: int  # encoder parameters
    aliases: tuple[str, ...] = ()
    sha256: str | None = None  # None: not published; recorded at the first download
    note: str = ""

    @property
    def family(self) -> str:
        return "aalbert" if self.shared else "mockingjay"

    @property
    def filename(self) -> str:
        return Path(urlparse(self.url).path).name

    @property
    def approx_download_mb(self) -> int:
        return round(self.params * 4 * 3 / 1e6)  # fp32 weights + Adam's two moments

    def cache_path(self, hub_dir: str | Path | None = None) -> Path:
        return Path(hub_dir if hub_dir is not None else torch_hub_dir()) / "aalbert" / self.name / self.filename

    def describe(self) -> str:
        sharing = "all layers share one set of weights" if self.shared else "unshared layers"
        return (
            f"{self.layers} layers ({sharing}), 80-dim log-mel input, {self.target} target, "
            f"LibriSpeech {self.hours} h, {self.steps:,} steps{self.note}"
        )


_AALBERT_BASE = 7_151_616
_MOCKINGJAY_BASE = 21_327_360
_MOCKINGJAY_LARGE = 85_118_208


def _log_mel_base(name: str, url: str, shared: bool, hours: int, steps: int, **more) -> PretrainedModel:
    """s3prl's "logMelBase" shape: 3 layers reconstructing their own 80-dim log-mel input."""
    params = _AALBERT_BASE if shared else _MOCKINGJAY_BASE
    more.setdefault("sequence_length", 1500)
    return PretrainedModel(name, url, 3, shared, "80-dim log-mel", hours, steps, params=params, **more)


def _dropbox(key: str, steps: int) -> str:
    return f"https://www.dropbox.com/s/{key}/states-{steps}.ckpt?dl=1"


# s3prl's other Mockingjay logMelBase checkpoints: name suffix, Dropbox key, hours, steps, the rest
_MOCKINGJAY_BASE_ROWS: tuple[tuple[str, str, int, int, dict], ...] = (
    ("200k_100hr", "luorglf8mdg67l2", 100, 200_000, {"aliases": ("mockingjay_100hr",)}),
    ("1m_960hr", "jzx0xggk663jev6", 960, 1_000_000, {"note": ", dropout 0.3"}),
    ("1m_960hr_drop1", "7f9z6dzc7oix6qv", 960, 1_000_000, {"aliases": ("mockingjay_960hr",), "note": ", dropout 0.1"}),
    ("1m_960hr_seq3k", "qnnvdrai2tfmjmh", 960, 1_000_000, {"sequence_length": 3000, "note": ", sequence length 3000"}),
)

PRETRAINED: tuple[PretrainedModel, ...] = (
    _log_mel_base(
        "audio_albert_logMelBase_T_share_AdamW_b32_1m_960hr_drop1",
        f"{_HF}/audio_albert/resolve/main/audio_albert_logMelBase_T_share_AdamW_b32_1m_960hr_drop1/states-1000000.ckpt",
        shared=True,
        hours=960,
        steps=1_000_000,
        aliases=("aalbert", "audio_albert", "audio_albert_960hr"),
    ),
    PretrainedModel(
        "mockingjay_logMelLinearLarge_T_AdamW_b32_500k_360hr_drop1",
        f"{_HF}/mockingjay/resolve/main/mockingjay_logMelLinearLarge_T_AdamW_b32_500k_360hr_drop1/states-500000.ckpt",
        layers=12,
        shared=False,
        target="201-dim linear",
        hours=360,
        steps=500_000,
        sequence_length=500,
        params=_MOCKINGJAY_LARGE,
        aliases=("mockingjay", "mockingjay_origin"),
    ),
    *(
        _log_mel_base(f"mockingjay_logMelBase_T_AdamW_b32_{suffix}", _dropbox(key, steps), False, hours, steps, **more)
        for suffix, key, hours, steps, more in _MOCKINGJAY_BASE_ROWS
    ),
)


def pretrained_names() -> dict[str, PretrainedModel]:
    """Every accepted name (full names and aliases) -> its model."""
    names: dict[str, PretrainedModel] = {}
    for model in PRETRAINED:
        for name in (model.name, *model.aliases):
            if name in names:
                raise AssertionError(f"pretrained name {name!r} is listed twice")
            names[name] = model
    return names


def find_pretrained(name: str) -> PretrainedModel:
    names = pretrained_names()
    if name not in names:
        raise BadInputError(f"no pretrained model named {name!r}; known: {', '.join(sorted(names))}")
    return names[name]


def refetch_command(name: str) -> str:
    """The command that downloads ``name`` (a pretrained name, or a ``url`` entry's URL) again."""
    return f"aalbert hub download {shlex.quote(name)} --force"
