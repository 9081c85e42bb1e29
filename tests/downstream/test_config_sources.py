"""A downstream config is the task's defaults (its config.yaml and the bases it extends) <- -c <-
each -o, then the flags set typed fields; every config error names where the bad value came from."""

import pytest
from downstream_fakes import write_file

from aalbert.config import ConfigError
from aalbert.downstream import cli
from aalbert.downstream.experiment_config import build_config

NEW = ["-u", "fake", "-d", "phone_linear", "-n", "x"]
FRAMES = "expert: aalbert.downstream.frame_classifier:FrameClassifierExpert\n"


def _error(argv: list[str], capsys) -> str:
    """The one line ``aalbert downstream`` prints for a config error."""
    assert cli.main(argv) == 1
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # -n x: never a folder in the checkout


def test_an_override_is_named_not_the_tasks_config(capsys):
    err = _error([*NEW, "-o", "expert=aalbert.downstream.speaker:SpeakerFrameExpert"], capsys)
    assert "-o expert=aalbert.downstream.speaker:SpeakerFrameExpert: unknown key(s) expert for ExperimentConfig" in err
    assert "config.yaml" not in err
    assert "-o runner.eval_step=0: runner: runner.eval_step must be >= 1" in _error(
        [*NEW, "-o", "runner.eval_step=0"], capsys
    )
    # the task's model section is checked before anything is loaded, against the task's expert
    err = _error([*NEW, "-o", "model.hidden_size=wide"], capsys)
    assert "-o model.hidden_size=wide: model: hidden_size: expected an integer, got 'wide'" in err


def test_a_c_file_is_named_for_its_own_values(capsys, tmp_path):
    mine = tmp_path / "mine.yaml"
    mine.write_text("runner:\n  total_steps: 0\n")
    assert f"{mine}: runner: runner.total_steps must be >= 1" in _error([*NEW, "-c", str(mine)], capsys)
    mine.write_text("runner:\n  eval_step: 7\n")
    err = _error([*NEW, "-c", str(mine), "-o", "data.label_fraction=2"], capsys)
    assert "-o data.label_fraction=2: data: data.label_fraction must be in [0.001, 1.0]" in err and str(mine) not in err


def test_a_bad_default_names_the_task_file_that_set_it(task_root, tmp_path):
    base = write_file(task_root / "bases" / "common.yaml", "runner:\n  total_steps: 10\n  eval_step: 0\n")
    config = write_file(task_root / "mytask" / "config.yaml", f"extends: ../bases/common.yaml\n{FRAMES}")
    mine = write_file(tmp_path / "mine.yaml", "runner:\n  total_steps: 20\n")
    for given in (None, mine):  # a -c file does not take the blame for the base's value
        with pytest.raises(ConfigError) as err:
            build_config("mytask", given, upstream="fake")
        assert str(err.value).startswith(f"{base}: runner: runner.eval_step must be >= 1")
    config.write_text(f"extends: ../bases/common.yaml\n{FRAMES}runner:\n  eval_step: 5\nmodel:\n  hidden_size: wide\n")
    with pytest.raises(ConfigError) as err:
        build_config("mytask", mine, upstream="fake")
    assert str(err.value).startswith(f"{config}: model: hidden_size: expected an integer, got 'wide'")
    config.write_text(f"extends: ../bases/common.yaml\n{FRAMES}runner:\n  eval_step: 5\n")
    assert build_config("mytask", mine, ["runner.eval_step=4"], upstream="fake").runner.eval_step == 4


def test_flags_set_typed_fields_and_a_bad_one_is_named(capsys):
    err = _error([*NEW, "--label-fraction", "5"], capsys)
    assert "--label-fraction 5: data: data.label_fraction must be in [0.001, 1.0], got 5.0" in err
    err = _error([*NEW, "-l", "2", "-o", "featurizer.layer=3"], capsys)
    assert "-l 2 and -o featurizer.layer=3 both set featurizer.layer: give one of them" in err
    args = cli.parse_args([*NEW, "-s", "last_hidden_state", "--seed", "5", "--data", "my corpus", "-f", "-k", "c.pt"])
    config = build_config("phone_linear", flags={**cli.upstream_settings(args), **cli.flag_settings(args)})
    assert (config.featurizer.mode, config.seed, config.data.roots) == ("last", 5, ["my corpus"])
    assert (config.upstream, config.upstream_ckpt, config.finetune) == ("fake", "c.pt", True)
