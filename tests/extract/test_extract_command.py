"""`aalbert extract`: Kaldi ark/scp, Lhotse and npy outputs read back by their own readers and compared
with the upstream's output; --jobs 2 equals --jobs 1; a killed run, rerun, equals an uninterrupted one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import kaldiio
import lhotse
import numpy as np
import pytest
import torch
from extract_fixtures import tiny_checkpoint

from aalbert import cli
from aalbert.audio import load_audio
from aalbert.testing import make_tone_corpus

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A tone corpus of 6 short utterances and a 2-layer, 32-wide s3prl-format checkpoint."""
    root = tmp_path_factory.mktemp("extract")
    corpus = make_tone_corpus(root / "corpus", speakers=2, utterances=3)
    ckpt = tiny_checkpoint(root / "tiny.ckpt")
    return corpus, ckpt


def extract(setup, out, *more: str) -> int:
    corpus, ckpt = setup
    argv = ["extract", "-u", "aalbert_local", "-k", str(ckpt), "--data", str(corpus), "--out", str(out)]
    return cli.main([*argv, "--no-progress", "-b", "2", *more])


def upstream_alone(setup, path: str) -> list[torch.Tensor]:
    """The upstream's own hidden states for one file, run alone (no batch, no padding)."""
    from aalbert.hub import load_upstream

    upstream = load_upstream("aalbert_local", setup[1]).eval()
    with torch.no_grad():
        return [h[0] for h in upstream([load_audio(path)])["hidden_states"]]


def kaldi_arrays(folder: Path) -> dict[str, np.ndarray]:
    return dict(kaldiio.load_scp(str(folder / "feats.scp")).items())


def test_kaldi_lhotse_npy_read_back_equal_the_upstreams_output(setup, tmp_path, capsys):
    assert extract(setup, tmp_path / "kaldi", "-l", "0,2") == 0
    assert "extracted 6 of 6 utterances" in capsys.readouterr().out
    kaldi = {layer: kaldi_arrays(tmp_path / "kaldi" / f"layer_0{layer}") for layer in (0, 2)}
    journal = [json.loads(line) for line in (tmp_path / "kaldi/journal/shard-000.jsonl").read_text().splitlines()]
    assert sorted(kaldi[2]) == sorted(r["uttid"] for r in journal) and len(journal) == 6
    for record in journal:
        alone = upstream_alone(setup, record["audio"]["path"])
        for layer in (0, 2):
            got = kaldi[layer][record["uttid"]]
            assert got.shape == tuple(alone[layer].shape) == (record["frames"], 32)
            np.testing.assert_allclose(got, alone[layer].numpy(), atol=2e-5)
    frames = dict(line.split() for line in (tmp_path / "kaldi/layer_02/utt2num_frames").read_text().splitlines())
    assert {u: int(n) for u, n in frames.items()} == {u: a.shape[0] for u, a in kaldi[2].items()}

    assert extract(setup, tmp_path / "lhotse", "-l", "2", "--output-format", "lhotse") == 0
    manifest = lhotse.load_manifest(tmp_path / "lhotse/layer_02/features.jsonl.gz")
    assert isinstance(manifest, lhotse.FeatureSet) and len(manifest) == 6
    for features in manifest:
        assert features.frame_shift == 0.01 and features.num_features == 32
        np.testing.assert_array_equal(features.load(), kaldi[2][features.recording_id])  # the same batches

    assert extract(setup, tmp_path / "npy", "--layers", "all", "--output-format", "npy") == 0
    for layer in (0, 2):
        index = (tmp_path / f"npy/layer_0{layer}/feats.tsv").read_text().splitlines()
        arrays = {u: np.load(tmp_path / f"npy/layer_0{layer}" / f) for u, f in (line.split("\t") for line in index)}
        assert arrays.keys() == kaldi[layer].keys()
        assert all(np.array_equal(arrays[u], kaldi[layer][u]) for u in arrays)


def test_two_jobs_write_what_one_job_writes(setup, tmp_path):
    assert extract(setup, tmp_path / "one", "-l", "1") == 0
    assert extract(setup, tmp_path / "two", "-l", "1", "--jobs", "2") == 0
    one, two = kaldi_arrays(tmp_path / "one/layer_01"), kaldi_arrays(tmp_path / "two/layer_01")
    assert one.keys() == two.keys() and all(np.array_equal(one[u], two[u]) for u in one)  # bit for bit
    shards = json.loads((tmp_path / "two/summary.json").read_text())["shards"]
    assert [s["extracted"] for s in shards] == [4, 2]  # batches of 2 dealt in turn: 0, 2 -> shard 0; 1 -> shard 1
    assert len(list((tmp_path / "two/layer_01").glob("feats.*.ark"))) == 2


KILLER = """
import os, signal, sys
from aalbert.extract import storage
real_write, written = storage.ShardStore.write, []
def write(self, uttid, key, arrays):
    if len(written) == 3:  # the 4th utterance: half its record, then the process dies
        data = storage.kaldi_record(uttid, arrays[0])
        ark = self._ark(self.streams[0])
        ark.write(data[: len(data) // 2])
        ark.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    written.append(uttid)
    real_write(self, uttid, key, arrays)
storage.ShardStore.write = write
from aalbert.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_killed_run_continued_equals_an_uninterrupted_one(setup, tmp_path, capsys):
    corpus, ckpt = setup
    argv = ["extract", "-u", "aalbert_local", "-k", str(ckpt), "--data", str(corpus), "-l", "0,2", "-b", "2"]
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, *argv, "--out", str(tmp_path / "killed"), "--no-progress"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert len((tmp_path / "killed/journal/shard-000.jsonl").read_text().splitlines()) == 3
    assert not (tmp_path / "killed/layer_02/feats.scp").exists()  # no index before every shard is done

    assert extract(setup, tmp_path / "killed", "-l", "0,2") == 0  # the same command again: it goes on
    assert "extracted 3 of 6 utterances" in capsys.readouterr().out
    assert extract(setup, tmp_path / "straight", "-l", "0,2") == 0
    for name in ("journal/shard-000.jsonl", "layer_00/feats.000.ark", "layer_02/feats.000.ark"):
        assert (tmp_path / "killed" / name).read_bytes() == (tmp_path / "straight" / name).read_bytes(), name
    scp = (tmp_path / "killed/layer_02/feats.scp").read_text()
    assert scp.replace(str(tmp_path / "killed"), "X") == (tmp_path / "straight/layer_02/feats.scp").read_text().replace(
        str(tmp_path / "straight"), "X"
    )


def test_a_rerun_redoes_what_no_longer_matches_what_was_written(setup, tmp_path, capsys):
    out = tmp_path / "npy"
    assert extract(setup, out, "-l", "2", "--output-format", "npy") == 0
    straight = {p.name: p.read_bytes() for p in (out / "layer_02/npy").iterdir()}
    victim = sorted((out / "layer_02/npy").iterdir())[-1]
    victim.write_bytes(victim.read_bytes()[:-8] + b"\0" * 8)  # same size, other numbers
    capsys.readouterr()
    assert extract(setup, out, "-l", "2", "--output-format", "npy") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert 0 < summary["extracted"] < 6 and summary["reused"] + summary["extracted"] == 6
    assert {p.name: p.read_bytes() for p in (out / "layer_02/npy").iterdir()} == straight


def test_clear_errors(setup, tmp_path, capsys):
    assert extract(setup, tmp_path / "a", "-l", "3") == 1
    assert "-l 3: no such hidden state; this upstream has 3" in capsys.readouterr().err
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes/mine.txt").write_text("keep me")
    assert extract(setup, tmp_path / "notes", "-l", "1") == 1
    assert "not made by an aalbert run" in capsys.readouterr().err
    assert (tmp_path / "notes/mine.txt").read_text() == "keep me"
    (tmp_path / "untrained").mkdir()
    assert extract(setup, tmp_path / "b", "--weighted-sum", str(tmp_path / "untrained")) == 1
    assert "holds no learned layer weights" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # argparse's usage error, as every command's
        extract(setup, tmp_path / "c", "-l", "1", "--weighted-sum", str(tmp_path / "untrained"))
    assert usage.value.code == 2 and "give one of -l N" in capsys.readouterr().err
    assert extract(setup, tmp_path / "d", "-l", "1") == 0
    assert extract(setup, tmp_path / "d", "-l", "2") == 1  # another selection in the same folder
    err = capsys.readouterr().err
    assert "config.selection.layers" in err and "run that command again" in err


def test_precision_is_the_upstream_loaders(setup, tmp_path, capsys):
    """--precision goes to aalbert.hub.load_upstream's precision= (aalbert.upstream.precision)."""
    assert extract(setup, tmp_path / "fp32", "-l", "2") == 0
    assert extract(setup, tmp_path / "int8", "-l", "2", "--precision", "int8") == 0
    exact, int8 = kaldi_arrays(tmp_path / "fp32/layer_02"), kaldi_arrays(tmp_path / "int8/layer_02")
    errors = [np.linalg.norm(int8[u] - exact[u]) / np.linalg.norm(exact[u]) for u in exact]
    assert 0 < max(errors) < 0.1  # quantized: close, but not the same numbers
    assert json.loads((tmp_path / "int8/experiment.json").read_text())["config"]["precision"] == "int8"
    if not torch.cuda.is_available():
        assert extract(setup, tmp_path / "fp16", "-l", "2", "--precision", "fp16", "--device", "cpu") == 1
        assert "fp16 needs a CUDA device" in capsys.readouterr().err


def test_the_process_group_is_destroyed_when_extract_ends(setup, tmp_path, monkeypatch):
    """A rank that returns with its gloo group alive aborts at interpreter exit ("terminate called without
    an active exception", exit -6) once in a few runs: extract must destroy the group it ran in, as
    pretraining and downstream do, whether it succeeds or fails."""
    import torch.distributed as torch_dist

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    for out, more, expected in ((tmp_path / "ok", ["-l", "1"], 0), (tmp_path / "bad", ["-l", "9"], 1)):
        torch_dist.init_process_group(
            "gloo", init_method=f"file://{tmp_path / out.name}.rendezvous", rank=0, world_size=1
        )
        try:
            assert extract(setup, out, *more) == expected
            assert not torch_dist.is_initialized()
        finally:
            if torch_dist.is_initialized():
                torch_dist.destroy_process_group()


def test_torchrun_ranks_are_the_shards(setup, tmp_path):
    """Under torchrun (two CPU ranks, gloo) each rank writes one shard; rank 0 the index: what --jobs 2 writes."""
    corpus, ckpt = setup
    argv = ["-u", "aalbert_local", "-k", str(ckpt), "--data", str(corpus), "-l", "1", "-b", "2", "--no-progress"]
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
        + ["-m", "aalbert", "extract", *argv, "--out", str(tmp_path / "ranks"), "--device", "cpu"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "terminate called" not in proc.stderr
    assert proc.stdout.count("extracted 6 of 6 utterances") == 1  # rank 0 reports for all
    assert extract(setup, tmp_path / "jobs", "-l", "1", "--jobs", "2") == 0
    for name in (
        "journal/shard-000.jsonl",
        "journal/shard-001.jsonl",
        "layer_01/feats.000.ark",
        "layer_01/feats.001.ark",
    ):
        assert (tmp_path / "ranks" / name).read_bytes() == (tmp_path / "jobs" / name).read_bytes(), name
