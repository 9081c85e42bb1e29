"""The config of a downstream experiment: built for a new run from the task's defaults, ``-c``, ``-o``
and the flags, or read back from an experiment folder (one the previous release wrote, too)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from aalbert import previous_release
from aalbert.config import from_dict
from aalbert.config_layers import ConfigLayers, Flags, load_yaml
from aalbert.corpus.registry import check_reader_options
from aalbert.errors import MissingFileError

from .config import ExperimentConfig
from .registry import load_task
from .s3prl_names import from_s3prl_config, our_key, s3prl_task

CONFIG_FILE = "config.yaml"  # the resolved config, in the experiment folder


def build_config(
    task: str,
    config_file: str | Path | None = None,
    overrides: list[str] | None = None,
    flags: Flags | None = None,
    **settings,
) -> ExperimentConfig:
    """The task's defaults (its config.yaml and the bases it extends; s3prl's name for a task adds its
    settings) <- ``config_file`` (-c) <- each of ``overrides`` (-o); then the task (-d), ``flags``
    (-u, -s, --seed...: aalbert.config_layers.Flags) and ``settings`` (the same from Python:
    ``upstream="fake"``) set typed fields. An error names
    the file, the ``-o KEY=VALUE`` or the flag that gave the bad value; the ``model`` section is
    checked against the task's expert here too, before anything is loaded."""
    spec = load_task(task)
    layers = spec.default_layers()
    alias = s3prl_task(task)
    if alias is not None and spec.name == alias.task and alias.settings:
        layers.add(alias.settings, f"-d {task} (s3prl's name for {alias.task})")
    if config_file is not None:  # s3prl's downstream_expert keys read under ours (s3prl_names)
        layers.add(from_s3prl_config(load_yaml(config_file), str(config_file)), str(config_file))
    layers.add_overrides(overrides, rename=our_key)
    keywords = {f"{name}={value!r}": {name: value} for name, value in settings.items() if value is not None}
    config = layers.build(ExperimentConfig, {f"-d {task}": {"task": spec.name}, **keywords, **(flags or {})})
    model_config = getattr(spec.expert_class, "Config", None)
    if isinstance(model_config, type) and dataclasses.is_dataclass(model_config):
        from_dict(model_config, config.model, key="model", origins=layers)  # as the expert will read it
    check_reader_options(config.data.format, config.data.options or {}, layers)  # before the corpus is read
    return config


def load_experiment_config(
    expdir: str | Path, overrides: list[str] | None = None, flags: Flags | None = None
) -> ExperimentConfig:
    """The config an experiment folder was trained with, plus ``-o`` overrides (e.g. more steps) and flags."""
    path = Path(expdir) / CONFIG_FILE
    if not path.is_file():
        raise MissingFileError(f"{expdir} is not a downstream experiment folder (no {CONFIG_FILE})")
    saved = previous_release.upgrade("downstream", load_yaml(path), str(path))  # a folder of the previous release
    layers = ConfigLayers(str(path)).add(saved, str(path)).add_overrides(overrides, rename=our_key)
    config = layers.build(ExperimentConfig, flags)
    check_reader_options(config.data.format, config.data.options or {}, layers)
    return config
