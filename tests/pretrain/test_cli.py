"""run_pretrain.py flags: -u/-c/-n/--expdir/-e/-o/--seed."""

import json
from pathlib import Path

import pytest
import torch
import yaml

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.config import save_config
from aalbert.pretrain import checkpoints
from aalbert.pretrain.cli import build_parser, main, resolve


def write_recipe(path: Path, roots) -> Path:
    recipe = {
        "model": {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64},
        "data": {"roots": [str(r) for r in roots], "max_frames": 100},
        "runner": {"total_steps": 4, "batch_size": 2, "log_step": 2, "image_step": 2, "save_step": 2, "max_keep": 1},
        "optimizer": {"lr": 1e-3},
    }
    path.write_text(yaml.safe_dump(recipe))
    return path


def test_train_then_resume_from_experiment_dir(tmp_path, corpus_dir, monkeypatch):
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    monkeypatch.chdir(tmp_path)
    assert (
        main(["-u", "aalbert", "-c", str(recipe), "-n", "run1", "--no-progress", "-o", "optimizer.lr=0.002,seed=5"])
        == 0
    )
    exp = tmp_path / "result" / "pretrain" / "run1"
    ckpt = load_checkpoint_file(exp / "states-4.ckpt")
    assert ckpt["Upstream_Config"]["transformer"]["num_hidden_groups"] == 1  # -u aalbert: shared
    assert ckpt["Config"]["optimizer"]["lr"] == 0.002 and ckpt["Config"]["seed"] == 5
    assert ckpt["Args"].upstream == "aalbert"
    assert list((exp / "log").glob("events.out.tfevents.*"))  # tensorboard scalars and images
    assert (exp / "config.yaml").is_file()
    # resume with the saved config, more steps by override
    at_4 = load_checkpoint_file(exp / "states-4.ckpt")["Transformer"]
    assert main(["-e", str(exp), "--no-progress", "-o", "runner.total_steps=6"]) == 0
    assert [p.name for p in checkpoints.list_checkpoints(exp)] == ["states-6.ckpt"]
    at_6 = load_checkpoint_file(exp / "states-6.ckpt")
    assert at_6["Step"] == 6 and at_6["Config"]["runner"]["total_steps"] == 6
    # the two steps trained (the schedule of the 4-step plan had reached a learning rate of 0)
    assert all(not torch.equal(at_4[k], at_6["Transformer"][k]) for k, v in at_4.items() if v.dim() == 2)


def test_an_experiment_written_before_stacking_was_renamed_resumes(tmp_path, corpus_dir, monkeypatch):
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            [
                "-u",
                "aalbert",
                "-c",
                str(recipe),
                "-n",
                "old",
                "--no-progress",
                "-o",
                "model.stacking=3,runner.total_steps=2",
            ]
        )
        == 0
    )
    exp = tmp_path / "result" / "pretrain" / "old"
    # as the toolkit wrote them before the rename: model.downsample_rate in the checkpoint's config and the record
    ckpt = torch.load(exp / "states-2.ckpt", weights_only=False)
    ckpt["Config"]["model"]["downsample_rate"] = ckpt["Config"]["model"].pop("stacking")
    torch.save(ckpt, exp / "states-2.ckpt")
    record = json.loads((exp / "experiment.json").read_text())
    record["config"]["model"]["downsample_rate"] = record["config"]["model"].pop("stacking")
    (exp / "experiment.json").write_text(json.dumps(record))
    assert main(["-e", str(exp), "--no-progress", "-o", "runner.total_steps=3"]) == 0
    assert load_checkpoint_file(exp / "states-3.ckpt")["Config"]["model"]["stacking"] == 3


def test_a_run_recorded_before_the_target_was_written_back_resumes(tmp_path, corpus_dir, monkeypatch):
    """Records written before audio.target.feat_type followed task.target say linear beside target: mel;
    the resume compared them with today's mel and refused the run as another config."""
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    monkeypatch.chdir(tmp_path)
    argv = ["-u", "aalbert", "-c", str(recipe), "-n", "mel", "--no-progress", "-o", "task.target=mel"]
    assert main([*argv, "-o", "runner.total_steps=2"]) == 0
    exp = tmp_path / "result" / "pretrain" / "mel"
    record = json.loads((exp / "experiment.json").read_text())
    assert record["config"]["audio"]["target"]["feat_type"] == "mel"
    record["config"]["audio"]["target"]["feat_type"] = "linear"  # as the previous release wrote it
    (exp / "experiment.json").write_text(json.dumps(record))
    assert main(["-e", str(exp), "--no-progress", "-o", "runner.total_steps=3"]) == 0
    assert load_checkpoint_file(exp / "states-3.ckpt")["Config"]["audio"]["target"]["feat_type"] == "mel"


def test_mockingjay_has_no_sharing_and_expdir_wins(tmp_path, corpus_dir):
    recipe = write_recipe(tmp_path / "r.yaml", [corpus_dir])
    exp = tmp_path / "somewhere"
    assert (
        main(
            [
                "-u",
                "mockingjay",
                "-c",
                str(recipe),
                "-n",
                "ignored",
                "--expdir",
                str(exp),
                "--no-progress",
                "-o",
                "runner.total_steps=2",
            ]
        )
        == 0
    )
    ckpt = load_checkpoint_file(exp / "states-2.ckpt")
    assert ckpt["Upstream_Config"]["transformer"]["num_hidden_groups"] == 2
    assert ckpt["Upstream_Config"]["transformer"]["share_layer"] is False


def test_shipped_recipes_resolve_by_name():
    for name in ("config/pretrain/tiny.yaml", "pretrain/paper_3l", "pretrain/paper_6l", "pretrain/paper_12l"):
        args = build_parser().parse_args(["-u", "mockingjay", "-c", name, "-n", "x", "-o", "data.roots=[/data]"])
        cfg, expdir, resume = resolve(args)
        assert expdir == Path("result/pretrain/x") and resume is None
    args = build_parser().parse_args(["-u", "aalbert", "-c", "pretrain/paper_12l", "-n", "x", "-o", "data.roots=[/d]"])
    cfg, _, _ = resolve(args)
    assert (cfg.model.hidden_size, cfg.model.num_hidden_layers, cfg.model.num_hidden_groups) == (768, 12, 1)
    assert cfg.model.stacking == 3 and cfg.task.target == "linear"


def test_the_saved_config_names_the_target_that_was_trained(tmp_path):
    """task.target replaces audio.target.feat_type; config.yaml kept the recipe's linear beside target: mel."""
    args = build_parser().parse_args(
        ["-u", "aalbert", "-c", "pretrain/paper_3l", "-n", "x", "-o", "data.roots=[/d],task.target=mel"]
    )
    cfg, _, _ = resolve(args)
    assert cfg.audio.target.feat_type == "mel"
    save_config(cfg, tmp_path / "config.yaml")
    assert yaml.safe_load((tmp_path / "config.yaml").read_text())["audio"]["target"]["feat_type"] == "mel"


@pytest.mark.parametrize(
    "argv, message, code",
    [
        (["-c", "pretrain/tiny", "-n", "x", "-o", "data.roots=[/d]"], "-u aalbert or -u mockingjay", 2),
        (["-u", "aalbert", "-n", "x"], "give a recipe with -c", 2),
        (["-u", "aalbert", "-c", "pretrain/tiny", "-n", "x"], "no training data", 1),
        (["-u", "aalbert", "-c", "pretrain/tiny", "-n", "x", "-o", "optimizer.lrr=1"], "unknown key", 1),
        (
            ["-u", "aalbert", "-c", "pretrain/tiny", "-n", "x", "-o", "data.roots=[/d],model.downsample_rate=3"],
            "-o model.downsample_rate=3: model: unknown key(s) downsample_rate",  # s3prl's name: only in its files
            1,
        ),
        (  # the previous release's names are read from its files only (aalbert.previous_release)
            ["-u", "aalbert", "-c", "pretrain/tiny", "-n", "x", "-o", "data.roots=[/d],optim.total_steps=3"],
            "-o optim.total_steps=3: unknown key(s) optim for PretrainConfig; known keys: audio, data, model, optimizer, "
            "runner",
            1,
        ),
        (["-u", "aalbert", "-c", "pretrain/nope", "-n", "x"], "config file not found", 1),
    ],
)
def test_usage_and_config_errors_are_clear(argv, message, code, capsys):
    # flags that do not go together exit 2 (as argparse's own); a bad config or data exits 1
    assert main(argv) == code
    assert message in capsys.readouterr().err


def test_a_config_error_names_the_recipe_the_override_or_the_flag(tmp_path, capsys):
    recipe = tmp_path / "mine.yaml"
    recipe.write_text(yaml.safe_dump({"seed": 3, "model": {"hidden_size": 48}, "data": {"roots": ["/d"]}}))

    def error(*flags: str) -> str:
        assert main(["-u", "aalbert", "-c", str(recipe), "-n", "x", *flags]) == 1
        return capsys.readouterr().err.strip().splitlines()[-1]

    # given with -o (s3prl's config. prefix too): the override is named, never the recipe
    err = error("-o", "config.model.hidden_sise=5")
    assert "-o model.hidden_sise=5: model: unknown key(s) hidden_sise for TransformerConfig" in err
    assert str(recipe) not in err
    assert "-o data.max_frames=0: data: " in error("-o", "data.max_frames=0")
    # the recipe's own bad value names the recipe, whatever -o also gives
    recipe.write_text(yaml.safe_dump({"model": {"hidden_size": 50}, "data": {"roots": ["/d"]}}))
    err = error("-o", "seed=4")
    assert f"{recipe}: model: hidden_size (50) must be a multiple of num_attention_heads" in err
    # --seed sets the field itself; given with -o seed too, which one counts is not guessed
    recipe.write_text(yaml.safe_dump({"seed": 3, "data": {"roots": ["/d"]}}))
    cfg, _, _ = resolve(build_parser().parse_args(["-u", "aalbert", "-c", str(recipe), "-n", "x", "--seed", "9"]))
    assert cfg.seed == 9
    assert "--seed 9 and -o seed=4 both set seed" in error("--seed", "9", "-o", "seed=4")
