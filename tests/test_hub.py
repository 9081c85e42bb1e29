"""Tests for aalbert.hub, hubconf.py and torch.hub loading."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import torch
from loaded_weights import assert_holds_checkpoint_weights

from aalbert import hub, hub_command, hub_table
from aalbert.torch_hub_dir import default_torch_hub_dir, torch_hub_dir

REPO = Path(__file__).resolve().parent.parent


def test_available_lists_every_builtin():
    names = hub.available_upstreams()
    for name in (
        "mockingjay",
        "aalbert",
        "audio_albert",
        "mockingjay_origin",
        "mockingjay_3l_random",
        "mockingjay_6l_random",
        "mockingjay_12l_random",
        "aalbert_3l_random",
        "aalbert_6l_random",
        "aalbert_12l_random",
        "mockingjay_local",
        "aalbert_local",
        "audio_albert_local",
        "aalbert_url",
        "fbank",
    ):
        assert name in names


def test_names_a_user_reads_as_aalbert_are_pretrained_or_say_random():
    for name in hub.available_upstreams():
        kind = hub.kind_of(name)
        if kind == "random":
            assert name.endswith("_random")
        elif name.startswith(("aalbert", "audio_albert", "mockingjay")):
            assert kind in ("pretrained", "local", "url"), name
    assert hub.kind_of("aalbert") == hub.kind_of("mockingjay") == "pretrained"


def test_random_models_follow_s3prl_sizes():
    model = hub.load_upstream("aalbert_3l_random")
    assert (model.num_layers, model.encoder_config.groups, model.hidden_size, model.stacking) == (3, 1, 768, 1)
    assert sum(p.numel() for p in model.parameters()) == 7_151_616
    assert model.name == "aalbert_3l_random"
    assert hub.load_upstream("aalbert_6l_random", stacking=3).downsample_rate == 480


def test_old_random_names_point_to_the_new_ones():
    from aalbert.config import ConfigError

    with pytest.raises(ConfigError, match="aalbert_3l_random.*pretrained ones are.*audio_albert"):
        hub.load_upstream("aalbert_3l")


def test_local_is_one_loader_under_s3prls_names_too():
    for kind in ("local", "url"):
        loader = hub.BUILTIN[kind]
        assert loader is getattr(hub, kind)
        for family in ("aalbert", "audio_albert", "mockingjay"):
            assert hub.BUILTIN[f"{family}_{kind}"] is loader and hub.kind_of(f"{family}_{kind}") == kind


def test_local_entries_load_checkpoints(make_s3prl_checkpoint):
    from aalbert.config import ConfigError
    from aalbert.errors import CheckpointNeededError

    path = make_s3prl_checkpoint(num_hidden_groups=1)
    for name in ("local", "aalbert_local", "mockingjay_local", "audio_albert_local"):
        model = hub.load_upstream(name, ckpt=path)
        assert len(model.encoder.groups) == 1 and model.hidden_size == 64
        assert_holds_checkpoint_weights(model, path)
    with pytest.raises(CheckpointNeededError, match="needs ckpt"):
        hub.load_upstream("aalbert_local")
    with pytest.raises(ConfigError, match="takes no checkpoint"):
        hub.load_upstream("aalbert_3l_random", ckpt=path)
    with pytest.raises(ConfigError, match="takes no checkpoint"):
        hub.load_upstream("aalbert", ckpt=path)
    with pytest.raises(ConfigError, match="unknown upstream 'nope'.*fbank"):
        hub.load_upstream("nope")


def test_url_entry_downloads_into_the_hub_cache(make_s3prl_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    path = make_s3prl_checkpoint(num_hidden_groups=1)
    model = hub.load_upstream("aalbert_url", ckpt=path.as_uri(), progress=False)
    assert model.encoder_config.groups == 1
    (cached,) = (tmp_path / "th" / "hub" / "aalbert" / "url").glob("*/ckpt.pt")
    assert cached.read_bytes() == path.read_bytes()
    assert_holds_checkpoint_weights(model, path)


def test_fbank_contract(speech_like):
    model = hub.load_upstream("fbank")
    out = model([speech_like(0.5), speech_like(0.3, seed=1)])
    assert model.num_layers == 0 and model.hidden_size == 80 and model.get_downsample_rates("x") == 160
    assert len(out["hidden_states"]) == 1 and out["hidden_states"][0].shape == (2, 51, 80)
    assert out["lengths"].tolist() == [51, 31]
    assert sum(p.numel() for p in model.parameters()) == 0
    with pytest.raises(ValueError, match="empty list"):
        model([])


def test_plugins_are_discovered(monkeypatch):
    ep = EntryPoint(name="my_plugin", value="aalbert.hub:fbank", group=hub.ENTRY_POINT_GROUP)
    shadow = EntryPoint(name="fbank", value="aalbert.hub:aalbert", group=hub.ENTRY_POINT_GROUP)
    monkeypatch.setattr(hub_table, "entry_points", lambda group: [ep, shadow] if group == hub.ENTRY_POINT_GROUP else [])
    with pytest.warns(UserWarning, match="shadowed"):
        assert "my_plugin" in hub.available_upstreams()
    with pytest.warns(UserWarning):
        assert hub.load_upstream("my_plugin").num_layers == 0


def test_list_command_prints_kinds_sizes_and_cache(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert hub_command.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = {line.split()[0]: line.split() for line in lines if line and not line.startswith(("-", "cache"))}
    assert row["mockingjay_12l_random"][1:5] == ["random", "12", "none", "85,118,208"]
    assert row["aalbert_12l_random"][1:5] == ["random", "12", "all", "7,151,616"]
    assert row["aalbert"][1:6] == ["pretrained", "3", "all", "7,151,616", "no"]
    assert row["mockingjay"][1:6] == ["pretrained", "12", "none", "85,118,208", "no"]
    assert row["aalbert_local"][1] == "local"
    model = hub.pretrained.find_pretrained("aalbert")
    model.cache_path().parent.mkdir(parents=True)
    model.cache_path().write_bytes(b"x")
    hub_command.main(["list"])
    assert (
        next(line for line in capsys.readouterr().out.splitlines() if line.startswith("aalbert ")).split()[5] == "yes"
    )


def test_info_names_url_and_cache(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert hub_command.main(["info", "audio_albert"]) == 0
    out = capsys.readouterr().out
    assert "huggingface.co/s3prl/audio_albert" in out and str(tmp_path) in out and "not downloaded" in out
    assert hub_command.main(["info", "nope"]) == 1


def test_torch_hub_local(make_s3prl_checkpoint, speech_like):
    path = make_s3prl_checkpoint()
    model = torch.hub.load(str(REPO), "aalbert_local", ckpt=str(path), source="local")
    assert model.num_layers == 3
    assert_holds_checkpoint_weights(model, path)
    with torch.inference_mode():
        assert len(model([speech_like(0.3)])["hidden_states"]) == 4
    # torch.hub.list has no source="local"; the local module is what torch.hub.load imported
    module = torch.hub._import_module("hubconf", str(REPO / "hubconf.py"))
    for name in ("aalbert", "mockingjay", "audio_albert", "fbank", "aalbert_12l_random", "mockingjay_local"):
        assert callable(getattr(module, name))
    assert module.aalbert_local is module.mockingjay_local is module.local


def test_hubconf_imports_only_aalbert():
    text = (REPO / "hubconf.py").read_text()
    assert 'dependencies = ["torch", "torchaudio"]' in text
    imports = [line for line in text.splitlines() if line.startswith(("import ", "from "))]
    assert imports and all(line.startswith("from aalbert") for line in imports)


def test_labels_say_what_a_plot_shows():
    assert hub.upstream_label("aalbert") == (
        "aalbert (pretrained audio_albert_logMelBase_T_share_AdamW_b32_1m_960hr_drop1)"
    )
    assert hub.upstream_label("aalbert_local", "/x/states-500.ckpt") == "aalbert_local (states-500.ckpt)"
    assert hub.upstream_label("aalbert_3l_random", seed=3) == "aalbert_3l_random (random weights, seed 3)"


def test_list_builds_no_model(capsys, monkeypatch, tmp_path):
    """Sizes come from configs (aalbert.upstream.param_count): building the paper-size random models took 6-15 s."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def no_building(*args, **kwargs):
        raise AssertionError("aalbert hub list built a model")

    monkeypatch.setattr(hub, "load_upstream", no_building)
    monkeypatch.setattr(hub.factory, "build_upstream", no_building)
    assert hub_command.main(["list"]) == 0
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines() if "random" in line}
    assert rows["mockingjay_6l_random"][1:5] == ["random", "6", "none", "42,590,976"]
    assert rows["aalbert_3l_random"][1:5] == ["random", "3", "all", "7,151,616"]


@pytest.mark.parametrize(
    "env",
    [{"TORCH_HOME": "{tmp}/th"}, {"TORCH_HOME": "~/th"}, {"XDG_CACHE_HOME": "{tmp}/xdg"}, {"HOME": "{tmp}/home"}, {}],
)
def test_the_cache_folder_is_torchs_without_importing_torch(env, monkeypatch, tmp_path):
    """`aalbert hub list` names torch.hub.get_dir() without importing torch: the same folder."""
    for name in ("TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(tmp=tmp_path))
    assert default_torch_hub_dir() == Path(torch.hub.get_dir()) == torch_hub_dir()
    monkeypatch.setattr(torch.hub, "_hub_dir", str(tmp_path / "set_dir"))  # torch.hub.set_dir's effect
    assert torch_hub_dir() == tmp_path / "set_dir"  # torch is loaded: its answer


def test_every_kind_of_the_table_has_its_entries():
    """hub.BUILTIN is made from hub_table.KINDS (what `aalbert hub list` reads), one entry per name."""
    assert list(hub.BUILTIN) == list(hub_table.KINDS)
    assert {hub.kind_of(name) for name in hub.BUILTIN} == {"pretrained", "random", "local", "url", "baseline"}
    assert hub.kind_of("my_plugin") == "plugin"


def test_python_m_aalbert_hub_list_prints_the_table(tmp_path):
    """`python -m aalbert.hub list` (older docs) and hubconf.py's advice print the table."""
    import os
    import re
    import subprocess
    import sys

    advice = re.search(r"``(python -m aalbert hub list)``", (REPO / "hubconf.py").read_text()).group(1)
    env = {**os.environ, "TORCH_HOME": str(tmp_path)}
    for argv in (["-m", "aalbert.hub", "list"], advice.split()[1:]):
        proc = subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "aalbert_3l_random" in proc.stdout and "mockingjay_local" in proc.stdout


def test_entries_take_s3prls_keywords(make_s3prl_checkpoint, tmp_path, monkeypatch):
    """What s3prl's hub functions take (torch.hub.load(..., options_config=None, refresh=True), and what its
    downstream runner passes to every upstream: ckpt, model_config, refresh) is never a TypeError."""
    from aalbert.config import ConfigError
    from aalbert.upstream import pretrained

    path = make_s3prl_checkpoint(hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1)
    kwargs = {"options_config": None, "refresh": True, "model_config": "ignored.yaml", "hooks": None}
    model = torch.hub.load(str(REPO), "mockingjay_local", ckpt=str(path), source="local", **kwargs)
    assert_holds_checkpoint_weights(model, path)
    assert torch.hub.load(str(REPO), "fbank", source="local", **kwargs).num_layers == 0
    assert hub.load_upstream("aalbert_3l_random", **kwargs).num_layers == 3
    loaded = []
    monkeypatch.setattr(pretrained, "load_pretrained", lambda name, **kw: loaded.append((name, kw["refresh"])))
    hub.BUILTIN["mockingjay"](refresh=True, options_config=None, model_config=None, ckpt=None)
    assert loaded == [("mockingjay", True)]
    # s3prl's options file: its dropout applies (hidden and attention); other options must keep their default
    options = tmp_path / "options.yaml"
    options.write_text("dropout: 0.3\nspec_aug: 'False'\nweighted_sum: 'False'\nselect_layer: 999\nckpt_file: ''\n")
    tuned = hub.load_upstream("audio_albert_local", path, options_config=str(options))
    assert {m.p for m in tuned.modules() if isinstance(m, torch.nn.Dropout)} == {0.3}
    assert {layer.attention.dropout for layer in tuned.encoder.layers} == {0.3}
    options.write_text("spec_aug: 'True'\n")
    with pytest.raises(ConfigError, match="spec_aug: 'True' is not offered"):
        hub.load_upstream("mockingjay_local", path, options_config=str(options))
    with pytest.raises(ConfigError, match="hooks are not offered"):
        hub.load_upstream("mockingjay_local", path, hooks=[("self.model", lambda i, o: o)])


def test_refresh_downloads_again(make_s3prl_checkpoint, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    source = make_s3prl_checkpoint("source.pt", seed=0)
    first = source.read_bytes()
    hub.load_upstream("mockingjay_url", ckpt=source.as_uri(), progress=False)
    make_s3prl_checkpoint("source.pt", seed=1)  # the file at the URL changes
    (cached,) = (tmp_path / "th" / "hub" / "aalbert" / "url").glob("*/source.pt")
    hub.load_upstream("mockingjay_url", ckpt=source.as_uri(), progress=False)
    assert cached.read_bytes() == first  # cached: not fetched again
    assert hub.refresh_download("mockingjay_url", source.as_uri(), progress=False)  # s3prl's -r
    assert cached.read_bytes() == source.read_bytes() != first
    assert not hub.refresh_download("fbank") and not hub.refresh_download("mockingjay_local", source)
