"""The published models by name: checkpoints as s3prl's pretraining writes them, served from a
``file://`` URL, loaded through ``torch.hub.load(repo, name, source="local")`` and compared with
s3prl 0.4.18's own UpstreamExpert on the same file, around the chunking boundary."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import warnings
from pathlib import Path

import pytest
import torch
from s3prl.upstream.mockingjay.expert import UpstreamExpert  # s3prl is a test requirement: no skip
from s3prl_pretrain_checkpoints import SHAPES, write_checkpoint
from speech_waves import make_speech_like

from aalbert.checkpoint_file import SkippedPickleWarning
from aalbert.upstream import pretrained, pretrained_table

pytestmark = pytest.mark.s3prl
REPO = Path(__file__).resolve().parents[2]
TOL = 1e-4
# which published name each fixture shape stands for
NAMES = {
    "aalbert_logMelBase": "aalbert",
    "mockingjay_logMelBase": "mockingjay_960hr",
    "mockingjay_logMelLinearLarge": "mockingjay",
}


def serve_from_files(monkeypatch, tmp_path: Path, files: dict[str, Path]) -> None:
    """Point the table's entries at file:// URLs and torch's hub cache at tmp_path/torch."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("AALBERT_OFFLINE", raising=False)
    table = []
    for model in pretrained_table.PRETRAINED:
        source = files.get(model.name)
        table.append(dataclasses.replace(model, url=source.as_uri()) if source else model)
    monkeypatch.setattr(pretrained_table, "PRETRAINED", tuple(table))  # the table's one home (torch-free)


def frames_to_wave(frames: int, seed: int) -> torch.Tensor:
    """A wave the features cut into exactly ``frames`` frames (n // 160 + 1)."""
    wave = make_speech_like((frames - 1) * 160 / 16000 + 0.01, seed=seed)
    return wave[: (frames - 1) * 160 + 80]


def s3prl_hidden(path: Path, wave: torch.Tensor) -> list[torch.Tensor]:
    with contextlib.redirect_stdout(io.StringIO()):  # s3prl prints as it builds
        expert = UpstreamExpert(str(path)).eval()
    with torch.no_grad():
        return [h[0] for h in expert([wave])["hidden_states"]]


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("served")
    return {shape: write_checkpoint(folder / f"{shape}.ckpt", shape, seed=i) for i, shape in enumerate(SHAPES)}


@pytest.mark.parametrize("shape", list(SHAPES))
def test_published_shapes_load_by_name_and_match_s3prl(shape, published, monkeypatch, tmp_path):
    name = NAMES[shape]
    entry = pretrained.find_pretrained(name)
    assert (entry.layers, entry.shared) == (SHAPES[shape]["layers"], SHAPES[shape]["share"])
    serve_from_files(monkeypatch, tmp_path, {entry.name: published[shape]})
    with pytest.warns(SkippedPickleWarning, match="optimizers.WarmupLinearSchedule"):
        model = torch.hub.load(str(REPO), name, source="local", progress=False)
    entry = pretrained.find_pretrained(name)  # as served
    assert entry.cache_path().is_file() and str(entry.cache_path()).startswith(str(tmp_path / "torch" / "hub"))
    length = SHAPES[shape]["sequence_length"]
    assert model.max_input_length == length and model.name == name
    waves = [frames_to_wave(n, seed) for seed, n in enumerate((length - 1, length, length + 1, 2 * length + 1))]
    alone = []
    for wave in waves:
        reference = s3prl_hidden(published[shape], wave)
        with torch.inference_mode():
            ours = model([wave])["hidden_states"]
        assert len(ours) == len(reference) == SHAPES[shape]["layers"] + 1
        assert ours[0].shape[1] == reference[0].shape[0]
        for layer, (mine, theirs) in enumerate(zip(ours, reference)):
            err = (mine[0] - theirs).abs().max().item()
            assert err <= TOL, f"{shape}, {reference[0].shape[0]} frames, hidden state {layer}: max abs diff {err:.2e}"
        alone.append(ours)
    # the same utterances in one batch with shorter ones: what each gets alone
    batch = [make_speech_like(0.7, seed=9), *waves, make_speech_like(2.3, seed=10)]
    with torch.inference_mode():
        out = model(batch)
    for i, ours in enumerate(alone, start=1):
        n = ours[0].shape[1]
        assert int(out["lengths"][i]) == n
        for layer, h in enumerate(ours):
            assert (out["hidden_states"][layer][i, :n] - h[0]).abs().max().item() <= 1e-5


def test_chunking_can_be_turned_off(published, monkeypatch, tmp_path):
    entry = pretrained.find_pretrained("mockingjay")
    serve_from_files(monkeypatch, tmp_path, {entry.name: published["mockingjay_logMelLinearLarge"]})
    wave = frames_to_wave(1001, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedPickleWarning)
        whole = torch.hub.load(str(REPO), "mockingjay", source="local", max_input_length=0, progress=False)
        pieces = torch.hub.load(str(REPO), "mockingjay_origin", source="local", progress=False)
    assert whole.max_input_length == 0 and pieces.max_input_length == 500
    with torch.inference_mode():
        a, b = whole([wave])["last_hidden_state"], pieces([wave])["last_hidden_state"]
    assert a.shape == b.shape and (a - b).abs().max() > 1e-2  # attention over 1001 frames differs


def test_legacy_layout_loads(tmp_path):
    from aalbert.upstream.checkpoint import upstream_from_checkpoint

    path = write_checkpoint(tmp_path / "legacy.ckpt", "mockingjay_logMelBase", legacy=True)
    wave = frames_to_wave(300, seed=1)
    with pytest.warns(SkippedPickleWarning):
        model = upstream_from_checkpoint(path)
    with torch.inference_mode():
        ours = model([wave])["hidden_states"]
    for mine, theirs in zip(ours, s3prl_hidden(path, wave)):
        assert (mine[0] - theirs).abs().max().item() <= TOL


def test_every_s3prl_name_is_in_the_table():
    import s3prl.upstream.audio_albert.hubconf as albert_hub
    import s3prl.upstream.mockingjay.hubconf as mockingjay_hub

    names = pretrained.pretrained_names()
    for module, prefix in ((albert_hub, "audio_albert"), (mockingjay_hub, "mockingjay")):
        published = [
            n
            for n in dir(module)
            if n.startswith(prefix) and not n.endswith(("_local", "_url")) and callable(getattr(module, n))
        ]
        assert published
        for name in published:
            assert name in names, f"s3prl's {name} is missing from the table"
    assert names["aalbert"] is names["audio_albert"]
    assert names["mockingjay"].name == "mockingjay_logMelLinearLarge_T_AdamW_b32_500k_360hr_drop1"
    # the URLs are s3prl's own
    source = Path(mockingjay_hub.__file__).read_text() + Path(albert_hub.__file__).read_text()
    for model in pretrained_table.PRETRAINED:
        assert model.url in source, model.name
