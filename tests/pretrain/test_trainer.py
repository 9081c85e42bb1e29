"""Training loop: resume-exact checkpoints, s3prl/hub compatibility, bad data, non-finite losses."""

import dataclasses

import numpy as np
import pytest
import soundfile
import torch
from pretrain_fixtures import tiny_config

from aalbert.checkpoint_file import load_checkpoint_file
from aalbert.corpus.problems import CorpusValidationError
from aalbert.hub import load_upstream
from aalbert.pretrain import checkpoints
from aalbert.pretrain import trainer as trainer_module
from aalbert.pretrain.trainer import Trainer
from aalbert.training_loop import NonFiniteTrainingError, TrainingInterrupted


def weights(trainer: Trainer) -> dict:
    return {k: v.clone() for k, v in trainer.model.state_dict().items()}


@pytest.mark.parametrize(
    "sections",
    [
        {},  # defaults: bucketing, no accumulation
        {
            "runner": {"gradient_accumulate_steps": 2, "total_steps": 8, "save_step": 4},
            "data": {"bucketing": False},
            "model": {"num_hidden_groups": 1},
        },
    ],
    ids=["plain", "accum-unbucketed-shared"],
)
def test_resume_is_exact(tmp_path, corpus_dir, sections):
    """N steps straight == N/2 steps, checkpoint, a fresh trainer resumed from it, N/2 more (torch.equal)."""
    cfg = tiny_config([corpus_dir], **sections)
    total, half = cfg.runner.total_steps, cfg.runner.save_step
    assert total == 2 * half
    assert cfg.model.hidden_dropout_prob > 0  # dropout on: its RNG must be restored too
    straight = Trainer(cfg, tmp_path / "straight", progress=False)
    straight.train()
    assert straight.step == total and straight.state.epoch > 1  # crossed epoch boundaries
    mid = checkpoints.checkpoint_path(tmp_path / "straight", half)
    assert mid.is_file()

    resumed = Trainer(cfg, tmp_path / "resumed", resume=mid, progress=False)
    assert resumed.step == half and resumed.state.position > 0  # resumes mid-epoch
    resumed.train()
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]
    # the optimizer state matches too
    sa, sb = straight.optimizer.state_dict()["state"], resumed.optimizer.state_dict()["state"]
    assert all(torch.equal(sa[i]["exp_avg"], sb[i]["exp_avg"]) for i in sa)


@pytest.mark.parametrize("accumulate, stop_at_forward, saved_step", [(1, 6, 5), (2, 6, 2)], ids=["plain", "mid-step"])
def test_interrupt_saves_the_last_finished_step_and_resumes_exactly(
    tmp_path, corpus_dir, monkeypatch, accumulate, stop_at_forward, saved_step
):
    """Ctrl-C / SIGTERM (aalbert.training_loop.stop_on_signals) during a forward pass: a checkpoint of
    the last finished step (a half-accumulated step is dropped), then TrainingInterrupted; resuming it
    gives the straight run's weights bit for bit."""
    cfg = tiny_config([corpus_dir], runner={"total_steps": 8, "save_step": 8, "gradient_accumulate_steps": accumulate})
    straight = Trainer(cfg, tmp_path / "straight", progress=False)
    straight.train()

    forward, calls = Trainer._forward, {"n": 0}

    def interrupted(self, waves):
        calls["n"] += 1
        if calls["n"] == stop_at_forward:
            raise KeyboardInterrupt
        return forward(self, waves)

    monkeypatch.setattr(Trainer, "_forward", interrupted)
    stopped = Trainer(cfg, tmp_path / "stopped", progress=False)
    with pytest.raises(TrainingInterrupted, match=f"interrupted at step {saved_step}; the state is saved in"):
        stopped.train()
    saved = checkpoints.checkpoint_path(tmp_path / "stopped", saved_step)
    assert checkpoints.list_checkpoints(tmp_path / "stopped") == [saved]
    monkeypatch.setattr(Trainer, "_forward", forward)
    resumed = Trainer(cfg, tmp_path / "stopped", resume=saved, progress=False)
    resumed.train()
    a, b = weights(straight), weights(resumed)
    assert all(torch.equal(a[k], b[k]) for k in a), [k for k in a if not torch.equal(a[k], b[k])]


def test_resume_from_experiment_dir_picks_latest(tmp_path, corpus_dir):
    cfg = tiny_config([corpus_dir], runner={"total_steps": 6, "save_step": 2, "max_keep": 2})
    Trainer(cfg, tmp_path / "exp", progress=False).train()
    kept = [p.name for p in checkpoints.list_checkpoints(tmp_path / "exp")]
    assert kept == ["states-4.ckpt", "states-6.ckpt"]  # max_keep pruned states-2
    assert checkpoints.resolve_resume(tmp_path / "exp").name == "states-6.ckpt"
    more = dataclasses.replace(cfg, runner=dataclasses.replace(cfg.runner, total_steps=8))
    t = Trainer(more, tmp_path / "exp", resume=tmp_path / "exp", progress=False)
    assert t.step == 6
    t.train()
    assert t.step == 8 and checkpoints.checkpoint_path(tmp_path / "exp", 8).is_file()


def test_checkpoint_is_weights_only_and_complete(tmp_path, corpus_dir):
    cfg = tiny_config([corpus_dir], runner={"total_steps": 3})
    t = Trainer(cfg, tmp_path / "exp", progress=False)
    t.train()
    path = checkpoints.checkpoint_path(tmp_path / "exp", 3)
    raw = load_checkpoint_file(path)  # weights-only
    for key in (
        "Step",
        "Args",
        "Config",
        "Upstream_Config",
        "Transformer",
        "SpecHead",
        "Optimizer",
        "Scheduler",
        "Epoch",
        "Position",
        "RNG",
    ):
        assert key in raw, key
    assert raw["Step"] == 3 and raw["Upstream_Config"]["task"]["mask_consecutive_min"] == 7
    assert raw["Config"]["model"]["hidden_size"] == 32
    assert not list((tmp_path / "exp").glob("*.tmp"))  # atomic write left nothing behind


def test_hub_and_s3prl_load_our_checkpoint(tmp_path, corpus_dir):
    from s3prl.upstream.mockingjay.expert import UpstreamExpert  # s3prl is a test requirement: no skip

    for sharing, groups in (("mockingjay", None), ("aalbert", 1)):
        cfg = tiny_config([corpus_dir], runner={"total_steps": 2}, model={"num_hidden_groups": groups})
        exp = tmp_path / sharing
        t = Trainer(cfg, exp, progress=False)
        t.train()
        ckpt = checkpoints.checkpoint_path(exp, 2)
        ours = load_upstream(f"{sharing}_local" if sharing == "mockingjay" else "aalbert_local", ckpt=ckpt).eval()
        assert torch.equal(
            ours.encoder.state_dict()["input.spec_transform.weight"],
            t.model.encoder.state_dict()["input.spec_transform.weight"],
        )
        assert ours.encoder.config.groups == (1 if groups == 1 else 2)
        ref = UpstreamExpert(str(ckpt)).eval()
        wave = torch.randn(16000) * 0.1
        with torch.no_grad():
            mine = ours([wave])["hidden_states"]
            theirs = ref([wave])["hidden_states"]
        assert len(mine) == len(theirs) == 3
        for a, b in zip(mine, theirs):
            assert a.shape == b.shape
            torch.testing.assert_close(a, b, atol=1e-4, rtol=1e-4)


def test_corrupt_file_is_skipped_and_counted(tmp_path, corpus_dir):
    (corpus_dir / "100" / "1" / "broken.flac").write_bytes(b"\x00garbage" * 50)
    cfg = tiny_config([corpus_dir], runner={"total_steps": 3})
    with pytest.warns(UserWarning, match="broken.flac"):
        t = Trainer(cfg, tmp_path / "exp", progress=False)
    assert len(t.corpus.utterances) == 6 and len(t.skipped) == 1
    t.train()
    assert t.step == 3
    assert load_checkpoint_file(checkpoints.checkpoint_path(tmp_path / "exp", 3))["Skipped_Files"] == 1


def poison_losses(monkeypatch, bad_calls) -> None:
    """Make the masked L1 NaN at the forward passes numbered in ``bad_calls`` (1-based)."""
    real_l1 = trainer_module.l1_loss
    calls = {"n": 0}

    def poisoned(pred, target):
        calls["n"] += 1
        loss = real_l1(pred, target)
        return loss * float("nan") if bad_calls(calls["n"]) else loss

    monkeypatch.setattr(trainer_module, "l1_loss", poisoned)


def adam_steps(t: Trainer) -> int:
    return int(max(float(state["step"]) for state in t.optimizer.state.values()))


def test_a_non_finite_step_is_skipped_and_counted(tmp_path, corpus_dir, monkeypatch):
    # the one policy of both loops (aalbert.training_loop): not applied, counted, named in a warning
    cfg = tiny_config([corpus_dir], runner={"total_steps": 10, "save_step": 4})
    poison_losses(monkeypatch, lambda n: n == 6)
    t = Trainer(cfg, tmp_path / "exp", progress=False)
    with pytest.warns(UserWarning, match=r"step 6: non-finite loss or gradient .*update skipped"):
        t.train()
    assert t.step == 10 and t.scheduler.last_epoch == 10  # the schedule went on as without it
    assert adam_steps(t) == 9  # the optimizer took the other nine
    assert all(torch.isfinite(p).all() for p in t.model.parameters())


def test_non_finite_steps_in_a_row_stop_and_name_the_last_checkpoint(tmp_path, corpus_dir, monkeypatch):
    cfg = tiny_config([corpus_dir], runner={"total_steps": 10, "save_step": 4})
    poison_losses(monkeypatch, lambda n: n >= 6)
    t = Trainer(cfg, tmp_path / "exp", progress=False)
    with pytest.warns(UserWarning, match="update skipped"):
        with pytest.raises(NonFiniteTrainingError, match=r"step 8: 3 steps in a row .*states-4\.ckpt"):
            t.train()
    assert t.step == 7 and adam_steps(t) == 5
    assert all(torch.isfinite(p).all() for p in t.model.parameters())  # no NaN was ever applied
    assert [p.name for p in checkpoints.list_checkpoints(tmp_path / "exp")] == ["states-4.ckpt"]


def test_loss_goes_down_on_a_tiny_corpus(tmp_path, corpus_dir):
    # scoring every frame (most are visible) learns fastest: a quick check that the loop optimises
    cfg = tiny_config(
        [corpus_dir],
        runner={"total_steps": 150},
        optimizer={"lr": 3e-3},
        model={"hidden_dropout_prob": 0.0},
        task={"loss_on": "all"},
    )
    history = Trainer(cfg, tmp_path / "exp", progress=False).train()
    first = sum(h.loss for h in history[:10]) / 10
    last = sum(h.loss for h in history[-10:]) / 10
    assert last < 0.9 * first, (first, last)


def test_bf16_autocast_and_mel_target_with_stacking(tmp_path, corpus_dir):
    cfg = tiny_config(
        [corpus_dir], runner={"total_steps": 3, "bf16": True}, model={"stacking": 3}, task={"target": "mel"}
    )
    t = Trainer(cfg, tmp_path / "exp", progress=False)
    history = t.train()
    assert all(torch.isfinite(torch.tensor(h.loss)) for h in history)
    # head predicts 3 stacked 80-dim mel frames; the checkpoint says so and our hub rebuilds it
    assert t.model.head.output.out_features == 80 * 3
    up = load_upstream("aalbert_local", ckpt=checkpoints.checkpoint_path(tmp_path / "exp", 3))
    assert up.encoder.config.stacking == 3 and up.feature_config.target.feat_type == "mel"


def test_a_file_that_fails_every_epoch_is_counted_once(tmp_path, corpus_dir):
    # cut short after the scan decoded it whole (the scan refuses a file already cut: see
    # test_a_file_cut_before_the_scan_is_refused_before_step_1): decoding fails at every epoch
    path = sorted(corpus_dir.rglob("*.flac"))[0]
    cfg = tiny_config([corpus_dir], runner={"total_steps": 9, "save_step": 9})
    t = Trainer(cfg, tmp_path / "exp", progress=False)
    assert len(t.corpus.utterances) == 6
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.warns(UserWarning, match=path.name):
        t.train()
    assert t.state.epoch >= 2 and len(t.skipped) == 1
    assert load_checkpoint_file(checkpoints.checkpoint_path(tmp_path / "exp", 9))["Skipped_Files"] == 1


def test_a_file_cut_before_the_scan_is_refused_before_step_1(tmp_path, corpus_dir):
    path = sorted(corpus_dir.rglob("*.flac"))[0]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    cfg = tiny_config([corpus_dir], runner={"total_steps": 3})
    with pytest.raises(CorpusValidationError, match=rf"{path}: truncated or corrupt"):
        Trainer(cfg, tmp_path / "exp", progress=False)
    assert not (tmp_path / "exp").exists()


def test_a_nan_file_is_refused_before_step_1_and_skipped_on_request(tmp_path, corpus_dir):
    nan = corpus_dir / "100" / "1" / "nan.wav"
    wave = np.zeros(16000, dtype=np.float32)
    wave[100] = np.nan
    soundfile.write(nan, wave, 16000, subtype="FLOAT")
    cfg = tiny_config([corpus_dir], runner={"total_steps": 3})
    with pytest.raises(CorpusValidationError, match=rf"{nan}: audio holds NaN"):
        Trainer(cfg, tmp_path / "exp", progress=False)
    cfg = tiny_config([corpus_dir], runner={"total_steps": 3}, data={"bad_audio": "skip"})
    with pytest.warns(UserWarning, match="nan.wav"):
        t = Trainer(cfg, tmp_path / "exp", progress=False)
    assert len(t.corpus.utterances) == 6
    t.train()
    ckpt = load_checkpoint_file(checkpoints.checkpoint_path(tmp_path / "exp", 3))
    assert ckpt["Skipped_Files"] == 1 and ckpt["Skipped_File_List"][0].startswith(f"{nan}: audio holds NaN")
