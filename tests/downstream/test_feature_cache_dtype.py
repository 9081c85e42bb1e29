"""The feature cache's storage dtype (runner.feature_cache_dtype) and the frozen upstream's --precision."""

import hashlib
import json

import pytest
import torch
from downstream_fakes import FakeUpstream

from aalbert.config import ConfigError
from aalbert.downstream.command import parse_args
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.feature_cache import FeatureCache, cache_manifest, fill_cache
from aalbert.downstream.runner import Runner


def _runner(corpus, expdir, cache, extra=(), upstream=None):
    overrides = [f"data.roots=[{corpus}]", "runner.total_steps=4", f"runner.feature_cache={cache}", *extra]
    cfg = build_config("speaker_utterance", overrides=overrides, upstream="fake")
    return Runner(cfg, expdir, upstream=upstream or FakeUpstream())


def _stored(folder):
    return {torch.load(p, weights_only=True).dtype for p in folder.glob("*/layer_*/*.pt")}


def test_disk_cache_is_float16_by_default_float32_on_request_and_memory_stays_exact(tone_corpus, tmp_path):
    half = _runner(tone_corpus, tmp_path / "a", str(tmp_path / "half"))
    half.cache_features(("dev",))
    assert _stored(tmp_path / "half") == {torch.float16}
    full = _runner(tone_corpus, tmp_path / "b", str(tmp_path / "full"), ["runner.feature_cache_dtype=float32"])
    full.cache_features(("dev",))
    assert _stored(tmp_path / "full") == {torch.float32}
    ids = [u.uttid for u in half.corpus.splits["dev"]]
    read_half, read_full = half.model.feature_cache.layer(2, ids), full.model.feature_cache.layer(2, ids)
    for h, f in zip(read_half, read_full):
        assert h.dtype == torch.float32  # read back as float32 whatever is stored
        assert 0 < float((h - f).norm() / f.norm()) < 1e-3
    memory = _runner(tone_corpus, tmp_path / "c", "memory")
    assert memory.model.feature_cache.dtype == "float32"


def test_dtypes_never_mix_and_a_cache_of_the_previous_code_is_read_as_it_is(tone_corpus, tmp_path):
    utts = _runner(tone_corpus, tmp_path / "exp", "none").corpus.splits["dev"]
    folder = tmp_path / "features"
    # the previous code's manifest (no storage_dtype / precision keys) and its sub-folder name
    old = {k: v for k, v in cache_manifest("fake", None, 0, "none").items() if k not in ("storage_dtype", "precision")}
    old_folder = folder / hashlib.sha256(json.dumps(old, sort_keys=True).encode()).hexdigest()[:16]
    assert fill_cache(FakeUpstream(), utts, FeatureCache(3, folder), old, progress=False) == len(utts)
    assert old_folder.is_dir()
    # today's float32 manifest names that same folder: nothing is extracted again
    fp32 = FeatureCache(3, folder, "float32")
    assert fill_cache(FakeUpstream(), utts, fp32, cache_manifest("fake", None, 0, "none"), progress=False) == 0
    assert fp32.directory == old_folder
    # float16, or another precision of the upstream: their own sub-folders, their own extraction
    half = FeatureCache(3, folder, "float16")
    manifest = cache_manifest("fake", None, 0, "none", "float16")
    assert fill_cache(FakeUpstream(), utts, half, manifest, progress=False) == len(utts)
    assert (
        half.directory != old_folder
        and json.loads((half.directory / "manifest.json").read_text())["storage_dtype"] == "float16"
    )
    int8 = FeatureCache(3, folder, "float16")
    manifest = cache_manifest("fake", None, 0, "none", "float16", precision="int8")
    assert fill_cache(FakeUpstream(), utts, int8, manifest, progress=False) == len(utts)
    assert len({fp32.directory, half.directory, int8.directory}) == 3
    # a float32 file put into the float16 folder by hand is refused, not silently mixed
    victim = next(half.directory.glob("layer_01/*.pt"))
    torch.save(torch.zeros(3, 32), victim)
    with pytest.raises(ConfigError, match="holds torch.float32, this cache float16; delete it"):
        half.layer(1, [u.uttid for u in utts])


def test_float16_overflow_is_an_error_naming_the_way_out(tmp_path):
    cache = FeatureCache(1, tmp_path / "c", "float16")
    cache.open(cache_manifest("fake", None, 0, "none", "float16"))
    with pytest.raises(ConfigError, match="beyond float16's range .*feature_cache_dtype=bfloat16 or float32"):
        cache.put("u1", [torch.full((2, 4), 1e6)])
    bf16 = FeatureCache(1, None, "bfloat16")
    bf16.put("u1", [torch.full((2, 4), 1e6)])
    assert bf16.layer(0, ["u1"])[0].dtype == torch.float32


def test_precision_flag_quantizes_the_frozen_upstream_and_refuses_finetuning(tone_corpus, tmp_path):
    from aalbert.downstream.cli import upstream_settings
    from aalbert.upstream.precision import quantized_linear_count

    args = parse_args(["-u", "fake", "-d", "speaker_utterance", "-n", "x", "--precision", "int8"])
    assert upstream_settings(args)["--precision int8"] == {"precision": "int8"}
    runner = _runner(tone_corpus, tmp_path / "q", "memory", ["precision=int8"])
    assert runner.upstream.precision == "int8" and quantized_linear_count(runner.upstream) > 0
    runner.train()  # trains on the int8 upstream's features
    with pytest.raises(ConfigError, match="int8 is for a frozen upstream"):
        build_config("speaker_utterance", overrides=["precision=int8", "finetune=true"], upstream="fake")
