from dataclasses import dataclass, field

import pytest

from aalbert.config import ConfigError, set_fields, to_dict
from aalbert.config_layers import (
    ConfigLayers,
    find_recipe,
    load_config,
    parse_overrides,
    setting_name,
    settings_spelled,
)


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


@dataclass
class Bounded:
    low: int = 0
    high: int = 10

    def __post_init__(self):
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) must not exceed high ({self.high})")


@dataclass
class Layered:
    seed: int = 1
    optim: Optim = field(default_factory=Optim)
    bounds: Bounded = field(default_factory=Bounded)


def test_every_error_names_the_file_or_override_that_set_the_bad_value(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 3\noptim:\n  steps: 5\nbounds:\n  high: 4\n")
    # an unknown key or a wrong value given with -o is the override's, not the file's
    with pytest.raises(ConfigError, match=r"^-o optim\.stepz=5: optim: unknown key\(s\) stepz for Optim") as err:
        load_config(Layered, recipe, ["config.optim.stepz=5"])
    assert "recipe.yaml" not in str(err.value)
    with pytest.raises(ConfigError, match=r"^-o optim\.steps=x: optim: steps: expected an integer"):
        load_config(Layered, recipe, ["seed=4,optim.steps=x"])
    # a dataclass's own check blames the value that breaks it: here the override, not the file's high
    with pytest.raises(ConfigError, match=r"^-o bounds\.low=12: bounds: low \(12\) must not exceed high \(4\)"):
        load_config(Layered, recipe, ["bounds.low=12"])
    # both, when either alone (put back to its default) would do
    with pytest.raises(ConfigError, match=r"^-o bounds\.low=6, \S*recipe\.yaml: bounds: low \(6\) must not"):
        load_config(Layered, recipe, ["bounds.low=6"])
    # ... and the file, when its value breaks it
    bad = tmp_path / "bad.yaml"
    bad.write_text("bounds:\n  low: 11\n")
    with pytest.raises(ConfigError, match=r"^\S*bad\.yaml: bounds: low \(11\) must not exceed high \(10\)"):
        load_config(Layered, bad, ["seed=2"])
    with pytest.raises(ConfigError, match=r"^task\.yaml: optim: steps: expected an integer"):
        ConfigLayers("defaults").add({"optim": {"steps": "many"}}, "task.yaml").add_overrides(["seed=2"]).build(Layered)


def test_layers_remember_which_file_set_each_key(tmp_path):
    layers = ConfigLayers("defaults.yaml")
    layers.add({"optim": {"lr": 0.1, "steps": 2}, "seed": 1}, "base.yaml")
    layers.add({"optim": {"steps": 3}}, "task.yaml").add_overrides(["optim.lr=0.5"])
    assert layers.data == {"optim": {"lr": 0.5, "steps": 3}, "seed": 1}
    assert layers.origins == {"optim.lr": "-o optim.lr=0.5", "optim.steps": "task.yaml", "seed": "base.yaml"}
    assert layers.sources(["optim"]) == "task.yaml, -o optim.lr=0.5"  # in the order they were given
    assert layers.sources(["bounds.low"]) == "defaults.yaml"  # no layer set it
    layers.add({"optim": 7}, "other.yaml")  # a value replacing a whole section takes over its keys
    assert layers.origins == {"seed": "base.yaml", "optim": "other.yaml"}
    assert layers.sources(["optim.steps"]) == "other.yaml"


def test_flags_set_typed_fields_and_their_errors_name_the_flag(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("seed: 3\nbounds:\n  high: 4\n")
    flags = {"--seed 9": {"seed": 9}, "--steps 4": {"optim.steps": 4, "optim.bf16": True}}
    cfg = load_config(Layered, recipe, ["optim.lr=0.5"], flags=flags)
    assert (cfg.seed, cfg.optim, cfg.bounds) == (9, Optim(lr=0.5, steps=4, bf16=True), Bounded(0, 4))
    with pytest.raises(ConfigError, match=r"^--low 5: bounds: low \(5\) must not exceed high \(4\)"):
        load_config(Layered, recipe, flags={"--low 5": {"bounds.low": 5}})
    with pytest.raises(ConfigError, match=r"^--seed x: seed: expected an integer, got 'x'"):
        load_config(Layered, recipe, flags={"--seed x": {"seed": "x"}})
    # a flag and an -o that set one key: which one wins is not guessed
    with pytest.raises(ConfigError, match=r"--seed 9 and -o seed=2 both set seed"):
        load_config(Layered, recipe, ["seed=2"], flags={"--seed 9": {"seed": 9}})
    assert set_fields(Layered(), {"bounds.high": 20}, "--high 20").bounds == Bounded(0, 20)


def test_a_message_asks_for_the_setting_as_the_command_spells_it():
    assert setting_name("data.alignment") == "data.alignment"
    with settings_spelled({"data.alignment": "--alignment"}):
        assert setting_name("data.alignment") == "--alignment"
        assert setting_name("data.splits") == "data.splits"
    assert setting_name("data.alignment") == "data.alignment"
