"""aalbert.s3prl_compat: s3prl 0.4.18's s3prl.hub / s3prl.nn / runner import with today's torchaudio,
and s3prl's own runner trains and evaluates on our checkpoint. s3prl's imports run in child
processes: a failed import half-done, and the runner's global changes (it replaces
``builtins.isinstance``), stay out of the test process."""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
import textwrap
import types

import pytest
import torch

from aalbert import s3prl_compat
from aalbert.checkpoint_file import load_checkpoint_file


def run_python(code: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_importing_it_changes_nothing():
    proc = run_python("""
        import sys
        import aalbert.s3prl_compat
        print(sorted(m for m in ("torch", "torchaudio", "huggingface_hub", "s3prl") if m in sys.modules))
        import torchaudio
        print(hasattr(torchaudio, "set_audio_backend"), "torchaudio.sox_effects" in sys.modules)
    """)
    assert proc.stdout.split("\n")[:2] == ["[]", "False False"], proc.stderr[-2000:]


@pytest.mark.s3prl
def test_s3prl_imports_with_it_and_not_without():
    proc = run_python("""
        try:
            import s3prl.hub
        except AttributeError as err:
            print("without:", err)
        from aalbert import s3prl_compat
        print("added:", s3prl_compat.install())
        import s3prl.hub, s3prl.nn, s3prl.downstream.runner, s3prl.run_downstream
        print("hub:", hasattr(s3prl.hub, "audio_albert_local"), hasattr(s3prl.hub, "mockingjay_local"))
        print("again:", s3prl_compat.install())
    """)
    lines = [line for line in proc.stdout.splitlines() if line.split(":")[0] in ("without", "added", "hub", "again")]
    assert lines == [
        "without: module 'torchaudio' has no attribute 'set_audio_backend'",
        "added: ['torchaudio.set_audio_backend', 'torchaudio.sox_effects', 'huggingface_hub.HfFolder', "
        "'huggingface_hub.Repository', 'torch.load safe global argparse.Namespace']",
        "hub: True True",
        "again: []",
    ], proc.stdout[-2000:] + proc.stderr[-2000:]


def test_stand_ins_refuse_in_one_line():
    s3prl_compat.install()
    import huggingface_hub
    import torchaudio
    from torchaudio.sox_effects import apply_effects_tensor

    assert torchaudio.set_audio_backend("sox_io") is None
    with pytest.raises(s3prl_compat.S3PRLCompatError, match=r"^s3prl called torchaudio\.sox_effects\..*SoX"):
        apply_effects_tensor(torch.zeros(1, 16), 16000, [["gain", "-n"]])
    with pytest.raises(s3prl_compat.S3PRLCompatError, match=r"huggingface_hub\.HfFolder.*--push_to_hf_hub"):
        huggingface_hub.HfFolder.get_token()
    with pytest.raises(s3prl_compat.S3PRLCompatError, match=r"huggingface_hub\.Repository.*1\.0 removed"):
        huggingface_hub.Repository("dir", clone_from="org/repo")


def test_what_a_library_still_has_is_left_alone(monkeypatch):
    own = object()
    old_torchaudio = types.ModuleType("torchaudio")
    old_torchaudio.set_audio_backend = own
    old_hub = types.ModuleType("huggingface_hub")
    old_hub.HfFolder = old_hub.Repository = own
    monkeypatch.setitem(sys.modules, "torchaudio", old_torchaudio)
    monkeypatch.setitem(sys.modules, "torchaudio.sox_effects", types.ModuleType("torchaudio.sox_effects"))
    monkeypatch.setitem(sys.modules, "huggingface_hub", old_hub)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())  # "installed"
    added = s3prl_compat.install()
    assert [a for a in added if not a.startswith("torch.load")] == []
    assert old_torchaudio.set_audio_backend is own and old_hub.HfFolder is own and old_hub.Repository is own


@pytest.mark.s3prl
def test_missing_task_packages_are_what_s3prl_tasks_fail_on(tmp_path):
    missing = s3prl_compat.missing_for_s3prl_tasks()
    assert missing == [n for n in ("pandas", "torchcodec") if importlib.util.find_spec(n) is None]
    if "pandas" in missing:
        with pytest.raises(ModuleNotFoundError, match="pandas"):
            importlib.import_module("s3prl.downstream.speaker_linear_utter_libri.expert")
    if "torchcodec" in missing:
        import soundfile
        import torchaudio

        soundfile.write(tmp_path / "a.wav", [0.0] * 160, 16000)
        with pytest.raises(ImportError, match="TorchCodec"):
            torchaudio.load(tmp_path / "a.wav")  # what s3prl's task datasets read audio with


# s3prl's `example` task (random waves, no data preparation): its config is not in s3prl's wheel
EXAMPLE_CONFIG = """
runner: {total_steps: 4, gradient_clipping: 1, gradient_accumulate_steps: 1, log_step: 2, eval_step: 4,
         save_step: 4, max_keep: 1, eval_dataloaders: [dev]}
optimizer: {name: TorchOptim, torch_optim_name: Adam, lr: 1.0e-3}
downstream_expert:
  datarc: {num_workers: 0, train_batch_size: 2, eval_batch_size: 2}
  modelrc: {input_dim: 16}
"""
# s3prl's run_downstream.py as a user runs it, after install(); its example data made small
RUN_DOWNSTREAM = """
    import sys
    from aalbert import s3prl_compat
    s3prl_compat.install()
    import s3prl.downstream.example.dataset as data
    data.EXAMPLE_DATASET_SIZE, data.EXAMPLE_WAV_MIN_SEC, data.EXAMPLE_WAV_MAX_SEC = 6, 1, 2
    from s3prl.downstream.example.expert import DownstreamExpert
    def log_records(self, split, records, **kwargs):
        print("records", split, len(records["acc"]), self.upstream_dim)
    DownstreamExpert.log_records = log_records
    from s3prl import run_downstream
    sys.argv = ["run_downstream.py", *{argv!r}]
    run_downstream.main()
"""


@pytest.mark.s3prl
@pytest.mark.slow
def test_s3prl_runner_trains_and_evaluates_on_our_checkpoint(tmp_path, make_s3prl_checkpoint):
    ckpt = make_s3prl_checkpoint(name="ours.ckpt", num_hidden_groups=1)
    (tmp_path / "config.yaml").write_text(EXAMPLE_CONFIG)
    expdir = tmp_path / "exp"
    train = ["-m", "train", "-u", "audio_albert_local", "-k", str(ckpt), "-d", "example", "-c", "config.yaml"]
    proc = run_python(RUN_DOWNSTREAM.format(argv=[*train, "-p", str(expdir), "--device", "cpu"]), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "records dev 6 64" in proc.stdout  # every dev utterance through our upstream (hidden 64)
    saved = load_checkpoint_file(expdir / "states-4.ckpt")
    assert saved["Step"] == 4 and saved["Featurizer"]["weights"].shape == (4,)  # 3 layers + input
    # -e: s3prl's runner reads its own file back with torch.load (install() lets its Namespace through)
    proc = run_python(
        RUN_DOWNSTREAM.format(argv=["-m", "evaluate", "-e", str(expdir / "states-4.ckpt"), "--device", "cpu"]),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "records test 6 64" in proc.stdout and "Loading Downstream weights" in proc.stdout
