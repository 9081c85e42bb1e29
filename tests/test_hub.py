"""Tests for aalbert.hub, hubconf.py and torch.hub loading."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import torch

from aalbert import hub

REPO = Path(__file__).resolve().parent.parent


def test_available_lists_every_builtin():
    names = hub.available_upstreams()
    for name in ("mockingjay", "aalbert", "mockingjay_3l", "mockingjay_6l", "mockingjay_12l", "aalbert_3l",
                 "aalbert_6l", "aalbert_12l", "mockingjay_local", "aalbert_local", "fbank"):
        assert name in names


def test_defaults_follow_s3prl():
    model = hub.load_upstream("aalbert")
    assert (model.num_layers, model.encoder_config.groups, model.hidden_size, model.stacking) == (3, 1, 768, 1)
    assert sum(p.numel() for p in model.parameters()) == 7_151_616
    assert hub.load_upstream("aalbert_6l", stacking=3).downsample_rate == 480


def test_mockingjay_default_is_12_layers(monkeypatch):
    seen = {}
    monkeypatch.setattr(hub.factory, "mockingjay_12l", lambda **kw: seen.setdefault("kw", kw) or "built")
    hub.mockingjay(stacking=3)
    assert seen["kw"] == {"stacking": 3}


def test_local_entries_load_checkpoints(make_s3prl_checkpoint):
    path = make_s3prl_checkpoint(num_hidden_groups=1)
    for name in ("aalbert_local", "mockingjay_local"):
        model = hub.load_upstream(name, ckpt=path)
        assert len(model.encoder.groups) == 1 and model.hidden_size == 64
    with pytest.raises(ValueError, match="needs ckpt"):
        hub.load_upstream("aalbert_local")
    with pytest.raises(ValueError, match="takes no ckpt"):
        hub.load_upstream("aalbert_3l", ckpt=path)
    with pytest.raises(ValueError, match="unknown upstream 'nope'.*fbank"):
        hub.load_upstream("nope")


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
    monkeypatch.setattr(hub, "entry_points", lambda group: [ep, shadow] if group == hub.ENTRY_POINT_GROUP else [])
    with pytest.warns(UserWarning, match="shadowed"):
        assert "my_plugin" in hub.available_upstreams()
    with pytest.warns(UserWarning):
        assert hub.load_upstream("my_plugin").num_layers == 0


def test_list_command_prints_sizes(capsys):
    assert hub.main(["list"]) == 0
    out = capsys.readouterr().out
    line = next(l for l in out.splitlines() if l.startswith("mockingjay_12l"))
    assert "85,118,208" in line and " 12 " in line
    assert "7,151,616" in next(l for l in out.splitlines() if l.startswith("aalbert_12l"))


def test_torch_hub_local(make_s3prl_checkpoint, speech_like):
    path = make_s3prl_checkpoint()
    model = torch.hub.load(str(REPO), "aalbert_local", ckpt=str(path), source="local")
    assert model.num_layers == 3
    with torch.inference_mode():
        assert len(model([speech_like(0.3)])["hidden_states"]) == 4
    # torch.hub.list has no source="local"; the local module is what torch.hub.load imported
    module = torch.hub._import_module("hubconf", str(REPO / "hubconf.py"))
    for name in ("aalbert", "mockingjay", "fbank", "aalbert_12l", "mockingjay_local"):
        assert callable(getattr(module, name))


def test_hubconf_imports_only_aalbert():
    text = (REPO / "hubconf.py").read_text()
    assert 'dependencies = ["torch", "torchaudio"]' in text
    imports = [l for l in text.splitlines() if l.startswith(("import ", "from "))]
    assert imports and all(l.startswith("from aalbert") for l in imports)
