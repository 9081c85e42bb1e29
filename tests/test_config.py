from dataclasses import dataclass, field

import pytest

from aalbert.config import ConfigError, find_recipe, load_config, parse_overrides, to_dict


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
