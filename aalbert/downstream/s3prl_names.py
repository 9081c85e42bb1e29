"""s3prl 0.4.18's names for what the downstream tasks here have: its task folders (``-d``) that are
tasks of ours, and the keys of its task configs (``downstream_expert.*``) that have a meaning here.

Torch-free: ``--list-tasks`` prints the aliases, the registry resolves them (``load_task``), and a
config's layers read s3prl's keys under our names (``-o config.downstream_expert.modelrc.X=...``
sets ``model.X``; a ``-c`` file with a ``downstream_expert`` section likewise).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aalbert.config import ConfigError

TIMIT = {"data": {"format": "timit"}}  # s3prl's timit_* tasks read TIMIT (39 phones, its default here too)
# s3prl's voxceleb1 reads VoxCeleb1 (wav/ID/VIDEO/N.wav, iden_split.txt); data/VoxCeleb1 as sv's default
VOXCELEB1 = {"data": {"format": "voxceleb1", "roots": ["data/VoxCeleb1"]}}


@dataclass(frozen=True)
class S3prlTask:
    task: str  # our task of that name
    note: str  # what --list-tasks says about it
    settings: Mapping[str, Any] = field(default_factory=dict)  # layered over the task's defaults


TASK_ALIASES: dict[str, S3prlTask] = {
    "speaker_linear_utter_libri": S3prlTask("speaker_utterance", "utterance-level speaker ID, mean pooling + linear"),
    "speaker_linear_frame_libri": S3prlTask("speaker_frame", "frame-level speaker ID, linear"),
    "timit_phone_linear": S3prlTask("phone_linear", "with data.format: timit", TIMIT),
    "timit_phone_1hidden": S3prlTask("phone_1hidden", "with data.format: timit", TIMIT),
    "ctc": S3prlTask(
        "phone_ctc",
        "SUPERB PR (s3prl: -d ctc -c downstream/ctc/libriphone.yaml); phones only, not s3prl's other ctc configs",
    ),
    "asr": S3prlTask(
        "asr_ctc",
        "SUPERB ASR on LibriSpeech (--data is the LibriSpeech folder holding train-clean-100, dev-clean, "
        "test-clean): CTC on characters, greedy decoding (model.beam_size for a beam; no language model), WER",
    ),
    "voxceleb1": S3prlTask(
        "speaker_utterance",
        "SUPERB SID on VoxCeleb1 (--data is the folder holding wav/ and iden_split.txt): its official split "
        "(iden_split.txt: 1 train, 2 dev, 3 test)",
        VOXCELEB1,
    ),
    "sv_voxceleb1": S3prlTask(
        "speaker_verification",
        "SUPERB SV on VoxCeleb1: test = the veri_test2.txt trials (data.options.trials), train = the other "
        "speakers, dev = a seeded share of them held out; EER and minDCF, cosine scoring",
    ),
    "speech_commands": S3prlTask(
        "keyword_spotting",
        "SUPERB KS on Speech Commands v0.01 (12 classes); --data is speech_commands_v0.01, its test archive "
        "speech_commands_test_set_v0.01 beside it (data.options.test_root)",
        {"data": {"format": "speech_commands"}},
    ),
    "fluent_commands": S3prlTask(
        "intent_classification",
        "SUPERB IC on Fluent Speech Commands; --data is the fluent_speech_commands_dataset folder "
        "(s3prl's downstream_expert.datarc.file_path), its CSVs the split",
        {"data": {"format": "fluent_commands"}},
    ),
}

MODEL_SECTION = "downstream_expert.modelrc"  # s3prl's task model settings: our ``model`` section
_RENAMED = {  # s3prl's key -> ours (keys under it follow)
    MODEL_SECTION: "model",
    "downstream_expert.datarc.train_batch_size": "runner.batch_size",
    "downstream_expert.datarc.batch_size": "runner.batch_size",
    "downstream_expert.datarc.eval_batch_size": "runner.eval_batch_size",
    "downstream_expert.datarc.num_workers": "runner.num_workers",
    "downstream_expert.corpus.batch_size": "runner.batch_size",
    "downstream_expert.corpus.num_workers": "runner.num_workers",
    "downstream_expert.datarc.speech_commands_test_root": "data.options.test_root",  # KS: the v0.01 test archive
    "downstream_expert.datarc.test_meta_data": "data.options.trials",  # SV: the trial list
}
_NO_COUNTERPART = (
    "has no counterpart here: the corpus is data.roots (--data ROOT), its labels and split data.*, the task's "
    "model model.* (s3prl's downstream_expert.modelrc.*), batch sizes runner.batch_size / runner.eval_batch_size"
)


def s3prl_task(name: str) -> S3prlTask | None:
    """The task s3prl's name ``name`` stands for here (None: not one of s3prl's names)."""
    return TASK_ALIASES.get(name)


def alias_lines() -> list[str]:
    """What ``--list-tasks`` prints after our tasks: each s3prl name, the task it runs and how."""
    width = max(map(len, TASK_ALIASES))
    return [f"{name:<{width}}  = {alias.task}: {alias.note}" for name, alias in sorted(TASK_ALIASES.items())]


def our_key(key: str) -> str:
    """A dotted key of s3prl's downstream config under our name (``downstream_expert.modelrc.X`` ->
    ``model.X``); our own keys as they are. Another ``downstream_expert`` key, or s3prl's ``args.NAME``
    (a flag set through -o), is a ConfigError saying what to give instead."""
    if key.startswith("args."):  # s3prl's -o args.NAME=VALUE sets its flag NAME
        name = key.removeprefix("args.")
        raise ConfigError(f"s3prl's args.{name} sets a command-line flag: give the flag itself (--{name} ...)")
    if key != "downstream_expert" and not key.startswith("downstream_expert."):
        return key
    for theirs, ours in _RENAMED.items():
        if key == theirs or key.startswith(f"{theirs}."):
            return ours + key[len(theirs) :]
    raise ConfigError(f"s3prl's {key} {_NO_COUNTERPART}")


def from_s3prl_config(data: Mapping[str, Any], where: str) -> dict:
    """A config file's mapping with its ``downstream_expert`` section (s3prl's) under our keys; a key
    without a meaning here is a ConfigError naming ``where`` (the file)."""
    section = data.get("downstream_expert")
    if section is None:
        return dict(data)
    if not isinstance(section, Mapping):
        raise ConfigError(f"{where}: downstream_expert must be a mapping (s3prl's task settings)")
    out = copy.deepcopy({k: v for k, v in data.items() if k != "downstream_expert"})
    for key, value in _leaves(section, "downstream_expert"):
        try:
            keys = our_key(key).split(".")
        except ConfigError as err:
            raise ConfigError(f"{where}: {err}") from None
        node = out
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = value
    return out


def _leaves(section: Mapping[str, Any], prefix: str) -> list[tuple[str, Any]]:
    """(dotted key, value) of every value under ``section`` that is not itself a non-empty mapping."""
    out: list[tuple[str, Any]] = []
    for name, value in section.items():
        key = f"{prefix}.{name}"
        out += _leaves(value, key) if isinstance(value, Mapping) and value else [(key, value)]
    return out
