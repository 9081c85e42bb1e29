import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from aalbert.analysis.attention import JSON_NAME, PNG_NAME, AttentionConfig, attention_jsd, main, select_files
from aalbert.analysis.jsd import LN2
from aalbert.errors import BadInputError, UsageError
from aalbert.hub import load_upstream

REPO = Path(__file__).resolve().parents[2]


def test_files_are_a_seeded_sample_spread_over_the_speakers(audio_dir):
    # spk0 holds utt0 and utt2, spk1 utt1 and utt3: the sorted head would be spk0's two
    two = select_files([str(audio_dir)], 2, seed=3)
    assert sorted(f.path.parent.name for f in two) == ["spk0", "spk1"]
    assert [f.path for f in select_files([str(audio_dir)], 2, seed=3)] == [f.path for f in two]
    assert len({f.path for f in select_files([str(audio_dir)], 4, seed=3)}) == 4
    with pytest.raises(UsageError, match="no data"):
        select_files([], 3)


def test_shared_layers_still_attend_differently(audio_dir, tiny_aalbert_ckpt):
    upstream = load_upstream("aalbert_local", str(tiny_aalbert_ckpt))
    assert len(upstream.encoder.groups) == 1  # one weight group: AALBERT
    files = select_files([str(audio_dir)], 4)
    result = attention_jsd(upstream, files, progress=False)
    m = result.matrix
    assert m.shape == (3, 3)
    assert torch.equal(m, m.T) and torch.all(m.diagonal() == 0)
    off = m[~torch.eye(3, dtype=torch.bool)]
    # same weights, different inputs per depth -> different attention
    assert (off > 0).all() and (off <= LN2).all()
    assert result.utterances == 4 and result.queries > 4


def test_batching_with_padding_gives_the_same_matrix(audio_dir, tiny_aalbert_ckpt):
    upstream = load_upstream("aalbert_local", str(tiny_aalbert_ckpt))
    files = select_files([str(audio_dir)], 4)
    one_by_one = attention_jsd(upstream, files, batch_size=1, progress=False)
    padded = attention_jsd(upstream, files, batch_size=4, progress=False)  # three of four are padded
    assert one_by_one.queries == padded.queries
    assert torch.allclose(one_by_one.matrix, padded.matrix, rtol=1e-4, atol=1e-7)


def test_cropping_bounds_the_frames(audio_dir, tiny_aalbert_ckpt):
    upstream = load_upstream("aalbert_local", str(tiny_aalbert_ckpt))
    files = select_files([str(audio_dir)], 2)
    cropped = attention_jsd(upstream, files, max_seconds=0.2, progress=False)
    assert cropped.queries <= 2 * 21  # 0.2 s = 20 hops (+1 for the centred frame)


def test_upstream_without_layers_is_refused(audio_dir):
    with pytest.raises(BadInputError, match="no attention layers"):
        attention_jsd(load_upstream("fbank"), select_files([str(audio_dir)], 1), progress=False)


def test_cli_writes_symmetric_matrix_json_and_png(audio_dir, tiny_aalbert_ckpt, tmp_path):
    out = tmp_path / "attn"
    rc = main(
        [
            "-u",
            "aalbert_local",
            "-k",
            str(tiny_aalbert_ckpt),
            "--data",
            str(audio_dir),
            "--num-utterances",
            "3",
            "-b",
            "2",
            "--out",
            str(out),
            "--no-progress",
        ]
    )
    assert rc == 0
    payload = json.loads((out / JSON_NAME).read_text())
    m = torch.tensor(payload["matrix"])
    assert payload["layers"] == ["layer 1", "layer 2", "layer 3"]
    assert m.shape == (3, 3) and torch.allclose(m, m.T) and torch.all(m.diagonal() == 0)
    assert (m[~torch.eye(3, dtype=torch.bool)] > 0).all()
    assert payload["upstream"]["name"] == "aalbert_local" and payload["upstream"]["ckpt"] == str(tiny_aalbert_ckpt)
    assert payload["settings"]["num_utterances"] == 3 and payload["utterances"] == 3
    assert payload["log_base"] == "e" and payload["upper_bound"] == pytest.approx(LN2)
    assert len(payload["files"]) == 3
    sample = payload["sample"]  # which files, drawn how: both speakers of the folder are in it
    assert (
        sample["seed"] == 1337 and sample["speakers"] == 2 and sorted(set(sample["file_speakers"])) == ["spk0", "spk1"]
    )
    assert [Path(f).parent.name for f in payload["files"]] == sample["file_speakers"]
    png = (out / PNG_NAME).read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_cli_reports_bad_input_in_one_line(audio_dir, tmp_path, capsys):
    rc = main(["-u", "no_such_upstream", "--data", str(audio_dir), "--out", str(tmp_path / "o")])
    assert rc == 1
    assert "unknown upstream 'no_such_upstream'" in capsys.readouterr().err
    rc = main(["-u", "aalbert_local", "--data", str(audio_dir), "--out", str(tmp_path / "o")])
    assert rc == 1
    assert "-u aalbert_local loads a checkpoint: give the path to an s3prl-format checkpoint with -k CKPT" in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "o").exists()


def test_entry_point_script_runs(audio_dir, tiny_aalbert_ckpt, tmp_path):
    out = tmp_path / "script"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "run_attention.py"),
            "-u",
            "aalbert_local",
            "-k",
            str(tiny_aalbert_ckpt),
            "--data",
            str(audio_dir),
            "--num-utterances",
            "1",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / JSON_NAME).is_file() and (out / PNG_NAME).is_file()


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"num_utterances": 0}, "number of utterances"),
        ({"batch_size": 0}, "batch size"),
        ({"max_seconds": 0.0}, "max_seconds"),
    ],
)
def test_config_checks_its_values(bad, message):
    with pytest.raises(BadInputError, match=message):
        AttentionConfig(**bad)


def test_random_hub_upstream_is_seeded(audio_dir, tmp_path):
    # no checkpoint: the seed alone decides the weights, so reruns agree and other seeds do not
    def matrix(seed, out):
        assert (
            main(
                [
                    "-u",
                    "aalbert_3l_random",
                    "--data",
                    str(audio_dir),
                    "--num-utterances",
                    "1",
                    "--max-seconds",
                    "0.3",
                    "--seed",
                    str(seed),
                    "--out",
                    str(tmp_path / out),
                    "--no-progress",
                ]
            )
            == 0
        )
        return json.loads((tmp_path / out / JSON_NAME).read_text())["matrix"]

    first = matrix(1, "a")
    assert matrix(1, "b") == first
    assert matrix(2, "c") != first
