"""aalbert.checkpoint_file: weights-only loading that never runs code, and clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile

import pytest
import torch

from aalbert.checkpoint_file import CheckpointError, SkippedObject, SkippedPickleWarning, load_checkpoint_file

MODULE = """
import pathlib
MARKER = pathlib.Path({marker!r})
MARKER.write_text("imported")

class Booby:
    def __init__(self, value=0):
        MARKER.write_text("constructed")
        self.value = value

    def __setstate__(self, state):
        MARKER.write_text("unpickled")
        self.__dict__.update(state)

    def __reduce__(self):
        return (Booby, (self.value,), {{"value": self.value}})
"""


def save_in_subprocess(tmp_path, code: str, legacy: bool = False) -> None:
    """Save a checkpoint holding a throwaway module's object, from another process."""
    script = textwrap.dedent(f"""
        import sys, torch
        sys.path.insert(0, {str(tmp_path)!r})
        import booby_trap
        {code}
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)


@pytest.mark.parametrize("legacy", [False, True])
def test_foreign_objects_never_run(tmp_path, monkeypatch, legacy):
    marker = tmp_path / "marker"
    (tmp_path / "booby_trap.py").write_text(MODULE.format(marker=str(marker)))
    save_in_subprocess(
        tmp_path,
        f"""torch.save({{"Transformer": {{"w": torch.arange(4.0)}},
        "Scheduler": [booby_trap.Booby(7)]}}, "ckpt.pt", _use_new_zipfile_serialization={not legacy})""",
    )
    marker.unlink()
    monkeypatch.syspath_prepend(str(tmp_path))  # importable, yet never imported
    with pytest.warns(SkippedPickleWarning, match=r"ckpt\.pt.*booby_trap\.Booby"):
        ckpt = load_checkpoint_file(tmp_path / "ckpt.pt")
    assert torch.equal(ckpt["Transformer"]["w"], torch.arange(4.0))
    skipped = ckpt["Scheduler"][0]
    assert isinstance(skipped, SkippedObject) and skipped.pickled_name == "booby_trap.Booby"
    assert not marker.exists() and "booby_trap" not in sys.modules


def test_forbidden_global_is_refused_by_name(tmp_path):
    class Runs:
        def __reduce__(self):
            return (os.system, ("true",))

    torch.save({"x": Runs()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError, match=r"evil\.pt.*forbidden global (posix|nt)\.system"):
        load_checkpoint_file(tmp_path / "evil.pt")


def test_builtins_that_would_run_code_become_inert(tmp_path):
    class Evaluates:
        def __reduce__(self):
            return (eval, ("1 + 1",))

    torch.save({"x": Evaluates(), "w": torch.ones(2)}, tmp_path / "eval.pt")
    with pytest.warns(SkippedPickleWarning, match="builtins.eval"):
        ckpt = load_checkpoint_file(tmp_path / "eval.pt")
    assert isinstance(ckpt["x"], SkippedObject) and ckpt["x"].args == ("1 + 1",)


def test_bad_files_say_what_is_wrong(tmp_path):
    with pytest.raises(CheckpointError, match="file not found"):
        load_checkpoint_file(tmp_path / "nope.pt")
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match=r"empty\.pt: is empty \(0 bytes\)"):
        load_checkpoint_file(tmp_path / "empty.pt")
    (tmp_path / "random.pt").write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r"random\.pt: is corrupt or not a torch checkpoint") as err:
        load_checkpoint_file(tmp_path / "random.pt")
    assert "allow_unsafe_pickle" not in str(err.value)  # never points a user to unsafe loading for junk


def test_flipped_bit_is_caught(tmp_path):
    path = tmp_path / "ckpt.pt"
    torch.save({"w": torch.linspace(0, 1, 10000)}, path)
    data = bytearray(path.read_bytes())
    start = data.find(torch.linspace(0, 1, 10000).numpy().tobytes()[:64])
    assert start > 0
    data[start + 1000] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=r"ckpt\.pt: is corrupt: the CRC of .* does not match"):
        load_checkpoint_file(path)


def test_truncated_zip_is_corrupt(tmp_path):
    path = tmp_path / "cut.pt"
    torch.save({"w": torch.ones(1000)}, path)
    path.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(CheckpointError, match=r"cut\.pt: is corrupt"):
        load_checkpoint_file(path)


def test_a_checkpoint_must_hold_what_the_caller_expects(tmp_path):
    torch.save([1, 2], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match=r"list\.pt: expected a dict, got list"):
        load_checkpoint_file(tmp_path / "list.pt")  # every checkpoint is a dict
    assert load_checkpoint_file(tmp_path / "list.pt", expected=object) == [1, 2]
    torch.save(torch.ones(2, 3), tmp_path / "feats.pt")
    assert load_checkpoint_file(tmp_path / "feats.pt", expected=torch.Tensor).shape == (2, 3)


def legacy_copy(source, dest, sentinel_key: str | None = None):
    """An s3prl-era checkpoint: the same dict saved in torch's legacy (non-zip, no CRC) format."""
    ckpt = torch.load(source, weights_only=False)
    if sentinel_key is not None:  # a LayerNorm gain near 1, with bytes found nowhere else in the file
        ckpt["Transformer"][sentinel_key] = torch.full_like(ckpt["Transformer"][sentinel_key], 1.2345)
    torch.save(ckpt, dest, _use_new_zipfile_serialization=False)
    return ckpt


@pytest.mark.parametrize(
    ("key", "sentinel"),
    [
        ("encoder.layer.1.output.LayerNorm.weight", True),  # 1.2345 -> NaN
        ("encoder.layer.0.attention.self.query.weight", False),  # a random weight -> ~1e37
    ],
)
def test_a_flipped_exponent_bit_in_a_legacy_checkpoint_names_file_and_tensor(
    make_s3prl_checkpoint, tmp_path, key, sentinel
):
    from aalbert import hub

    path = tmp_path / "states-1000000.ckpt"
    ckpt = legacy_copy(make_s3prl_checkpoint(), path, key if sentinel else None)
    assert not zipfile.is_zipfile(path)
    before = hub.load_upstream("local", ckpt=path)  # whole: loads
    weights = ckpt["Transformer"][key].flatten()
    index = int(weights.abs().argmax())
    data = bytearray(path.read_bytes())
    start = data.find(weights.numpy().tobytes())
    assert start > 0 and data.find(weights.numpy().tobytes(), start + 1) == -1
    data[start + 4 * index + 3] ^= 0x40  # float32, little-endian: the top exponent bit
    path.write_bytes(bytes(data))
    flipped = torch.load(path, weights_only=False)["Transformer"][key].flatten()[index]
    assert not torch.isfinite(flipped) or flipped.abs() > 1e30
    with pytest.raises(CheckpointError) as err:
        hub.load_upstream("local", ckpt=path)
    message = str(err.value)
    assert str(path) in message and f"Transformer.{key}" in message and "\n" not in message
    assert before.num_layers == 3


def test_zip_checkpoints_may_hold_infinities(tmp_path):
    """Their CRCs already catch flipped bits; a mask buffer of -inf is a legitimate value."""
    torch.save({"mask": torch.tensor([0.0, float("-inf")]), "w": torch.ones(3)}, tmp_path / "zip.pt")
    assert load_checkpoint_file(tmp_path / "zip.pt")["mask"][1] == float("-inf")
