from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from aalbert.config import ConfigError, find_recipe, load_config, parse_overrides, to_dict, upgrade_renamed_keys


@dataclass
class Optim:
    lr: float = 1e-3
    steps: int = 10
    bf16: bool = False


@dataclass
class Recipe:
    name: str = "x"
    layers: list[int] = field(default_factory=lambda: [1, 2])
    target: str | None = None
    optim: Optim = field(default_factory=Optim)


def test_yaml_then_overrides(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("name: tiny\noptim:\n  lr: 0.01\n  steps: 5\n")
    cfg = load_config(Recipe, path, ["optim.steps=7", "optim.bf16=true,target=mel"])
    assert cfg.name == "tiny"
    assert cfg.optim == Optim(lr=0.01, steps=7, bf16=True)
    assert cfg.target == "mel"
    assert to_dict(cfg)["optim"]["steps"] == 7


def test_int_accepted_for_float_but_not_string_for_bool(tmp_path):
    assert load_config(Recipe, overrides=["optim.lr=1"]).optim.lr == 1.0
    assert load_config(Recipe, overrides=["optim.lr=2e-3"]).optim.lr == 0.002  # YAML 1.1 reads a string
    with pytest.raises(ConfigError, match="optim: steps: expected an integer"):
        load_config(Recipe, overrides=["optim.steps=2e3"])
    with pytest.raises(ConfigError, match="optim: bf16: expected true or false"):
        load_config(Recipe, overrides=["optim.bf16=yes please"])


def test_unknown_key_names_the_key_and_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: optim: unknown key\(s\) learning_rate"):
        load_config(Recipe, path)


def test_list_override_with_commas():
    assert parse_overrides(["a.b=[1,2],c=3"]) == {"a": {"b": [1, 2]}, "c": 3}
    with pytest.raises(ConfigError, match="key=value"):
        parse_overrides(["novalue"])


def test_missing_recipe_is_a_clear_error():
    with pytest.raises(ConfigError, match="config file not found: nope/nothing"):
        find_recipe("nope/nothing")


def test_recipes_resolve_by_name_from_anywhere(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # not the repository root
    by_name = find_recipe("pretrain/tiny")
    assert by_name.name == "tiny.yaml" and by_name.is_file()
    assert find_recipe("config/pretrain/tiny.yaml") == by_name


def test_override_values_are_plain_yaml_only():
    with pytest.raises(ConfigError, match=r"override x: value .* is not a plain YAML value") as err:
        parse_overrides(["x=!!python/object/apply:os.system ['true']"])
    assert "\n" not in str(err.value)


def test_numbers_must_be_finite():
    for bad in (".inf", "-.inf", ".nan", "1e999"):
        with pytest.raises(ConfigError, match=r"optim: lr: expected a finite number"):
            load_config(Recipe, None, [f"optim.lr={bad}"])


def test_s3prl_double_comma_separator():
    cfg = load_config(Recipe, None, ["config.optim.steps=3,,optim.lr=0.5,,layers=[4,5]"])
    assert (cfg.optim.steps, cfg.optim.lr, cfg.layers) == (3, 0.5, [4, 5])


def test_malformed_yaml_file_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  lr: [1, 2\n  steps: 3\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML: .*line \d+") as err:
        load_config(Recipe, path)
    assert "\n" not in str(err.value)


@dataclass
class Model:
    RENAMED_KEYS: ClassVar[dict[str, str]] = {"old_width": "width"}
    width: int = 1


@dataclass
class Renamed:
    model: Model = field(default_factory=Model)
    maybe: Model | None = None


def test_a_renamed_key_in_yaml_or_override_names_the_new_dotted_key(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("model:\n  old_width: 3\n")
    with pytest.raises(ConfigError, match=r"old.yaml: model: model.old_width was renamed to model.width"):
        load_config(Renamed, path)
    with pytest.raises(ConfigError, match=r"model.old_width was renamed to model.width"):
        load_config(Renamed, None, ["model.old_width=3"])
    assert load_config(Renamed, None, ["model.width=3"]).model.width == 3


def test_configs_written_before_a_rename_are_read_under_the_new_names():
    saved = {"model": {"old_width": 3}, "maybe": {"old_width": 4}, "other": {"old_width": 5}}
    upgraded = upgrade_renamed_keys(Renamed, saved)
    # nested dataclasses (optional ones too) are mapped; keys outside the dataclass are left alone
    assert upgraded == {"model": {"width": 3}, "maybe": {"width": 4}, "other": {"old_width": 5}}
    assert saved["model"] == {"old_width": 3}  # the input is not changed
    assert upgrade_renamed_keys(Renamed, {"maybe": None}) == {"maybe": None}
    with pytest.raises(ConfigError, match=r"ckpt: model: both model.old_width and its new name model.width"):
        upgrade_renamed_keys(Renamed, {"model": {"old_width": 3, "width": 4}}, where="ckpt")


def test_wrong_types_name_what_was_expected():
    for override, expected in (
        ("optim.bf16=1", "true or false"),
        ("optim.steps=true", "an integer"),
        ("optim.lr=true", "a number"),
        ("name=3", "a string"),
        ("layers=3", "a list"),
    ):
        with pytest.raises(ConfigError, match=f"expected {expected}, got"):
            load_config(Recipe, None, [override])
