"""Each task trains a few steps on a generated tone corpus and beats chance where it should."""

import json

import pytest
import torch
from downstream_fakes import FakeUpstream

from aalbert.downstream.data.labels import LabelLengthError
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner
from aalbert.downstream.training import BEST


def _run(task, corpus, expdir, steps=60, upstream=None, extra=()):
    cfg = build_config(
        task,
        overrides=[
            f"data.roots=[{corpus}]",
            f"runner.total_steps={steps}",
            f"runner.eval_step={steps // 2}",
            "runner.log_step=10",
            "model.hidden_size=32",
            "optimizer.lr=0.01",
            *extra,
        ],
        upstream="fake",
    )
    runner = Runner(cfg, expdir, upstream=upstream or FakeUpstream())
    return runner, runner.train()


def test_phone_linear_beats_chance_and_writes_results(tone_corpus, tmp_path):
    runner, res = _run("phone_linear", tone_corpus, tmp_path / "exp")
    assert res["metrics"]["test"]["accuracy"] > 0.6  # 5 classes: chance ~0.2-0.35
    saved = json.loads((tmp_path / "exp" / "results.json").read_text())
    assert saved["metrics"]["dev_best"]["step"] in (30, 60)
    assert saved["data"]["skipped_no_alignment"] == {"train": 0, "dev": 1, "test": 0}
    assert saved["upstream"]["name"] == "fake" and saved["upstream"]["num_parameters"] > 0
    # linear head over 32-dim features, 5 classes, + 3 featurizer weights
    assert saved["downstream_trainable_parameters"] == 32 * 5 + 5 + 3
    weights = saved["featurizer"]["layer_weights"]
    assert len(weights) == 3 and sum(weights) == pytest.approx(1.0)
    assert (tmp_path / "exp" / "layer_weights.png").stat().st_size > 1000
    chance = saved["chance"]  # what always answering train's majority phone scores: the figures' chance line
    assert chance["unit"] == "10 ms frame" and 0 < chance["test"] < res["metrics"]["test"]["accuracy"]
    assert saved["config"]["task"] == "phone_linear"
    # checkpoints hold only tensors and plain values
    best = torch.load(tmp_path / "exp" / BEST, weights_only=True)
    assert set(best["model"]) == {"featurizer", "expert"}  # frozen upstream is not saved


def test_frozen_upstream_is_untouched(tone_corpus, tmp_path):
    upstream = FakeUpstream()
    before = {k: v.clone() for k, v in upstream.state_dict().items()}
    runner, _ = _run("phone_linear", tone_corpus, tmp_path / "exp", steps=10, upstream=upstream)
    assert all(torch.equal(before[k], v) for k, v in upstream.state_dict().items())
    assert not upstream.training


def test_finetune_updates_upstream_and_saves_it(tone_corpus, tmp_path):
    upstream = FakeUpstream()
    before = upstream.proj.weight.detach().clone()
    _run("phone_linear", tone_corpus, tmp_path / "exp", steps=10, upstream=upstream, extra=["finetune=true"])
    assert not torch.equal(before, upstream.proj.weight)
    assert "upstream" in torch.load(tmp_path / "exp" / BEST, weights_only=True)["model"]


@pytest.mark.parametrize("task", ["phone_1hidden", "phone_2hidden"])
def test_phone_mlp_tasks_train(task, tone_corpus, tmp_path):
    _, res = _run(task, tone_corpus, tmp_path / "exp")
    assert res["metrics"]["test"]["accuracy"] > 0.6
    assert res["downstream_trainable_parameters"] > 32 * 5 + 5 + 3  # hidden layers add parameters


def test_phone_linear_with_stacked_upstream(tone_corpus, tmp_path):
    # 3 frames per upstream frame: labels are brought to 30 ms by majority vote
    _, res = _run("phone_linear", tone_corpus, tmp_path / "exp", upstream=FakeUpstream(stacking=3))
    assert res["metrics"]["test"]["accuracy"] > 0.5
    assert res["upstream"]["downsample_rate"] == 480


def test_speaker_utterance_beats_chance(tone_corpus, tmp_path):
    _, res = _run("speaker_utterance", tone_corpus, tmp_path / "exp")
    assert res["metrics"]["test"]["accuracy"] > 0.5  # 3 speakers
    assert res["data"]["speakers"] == 3
    assert res["data"]["skipped_no_alignment"] == {}  # speaker tasks do not need alignments


def test_speaker_frame_reports_frame_and_utterance_accuracy(tone_corpus, tmp_path):
    _, res = _run("speaker_frame", tone_corpus, tmp_path / "exp")
    test = res["metrics"]["test"]
    assert test["frame_accuracy"] > 0.5 and test["utterance_accuracy"] > 0.5
    assert res["main_metric"] == "frame_accuracy"


def test_phone_ctc_learns(tmp_path, monkeypatch):
    """Trained CTC against what it must beat, measured here: the same model untrained, and the same
    training on labels that belong to other utterances (what a CTC head scores from the label prior).

    Its own corpus (3 voices x 30 utterances: ~45 test phones, not ~15) split per speaker: the fake
    upstream has no CMVN, so an unseen voice's tone lands in a band training never saw; across voices
    this test measured that (train PER 0.3, test 0.52) and shuffled labels came within 0.25 of it."""
    from tone_corpus import make_tone_corpus

    from aalbert.downstream.ctc import PhoneCTCExpert
    from aalbert.downstream.evaluation import evaluate

    corpus = make_tone_corpus(tmp_path / "tones", speakers=3, utterances=30)
    extra = ["model.hidden_layers=1", "model.hidden_size=64", "data.split_policy=per_speaker"]
    runner, res = _run("phone_ctc", corpus, tmp_path / "exp", steps=200, extra=extra)
    assert res["higher_is_better"] is False
    trained = res["metrics"]["test"]["per"]
    assert trained < 0.6  # emitting only blanks scores 1.0
    assert res["metrics"]["dev_best"]["per"] < 0.6
    assert sum(res["data"]["utterances"][split] for split in ("train", "dev", "test")) == 90

    untrained_runner = Runner(runner.config, tmp_path / "untrained", upstream=FakeUpstream())
    untrained = evaluate(untrained_runner.model, untrained_runner.loader("test"), "test")["per"]
    assert trained < min(untrained, 1.0) - 0.4  # below chance (random head, or blanks only) by a margin

    real_targets = PhoneCTCExpert.targets

    def other_utterances_targets(self, batch):  # while training: utterance i learns utterance i+1's phones
        refs = real_targets(self, batch)
        return refs[1:] + refs[:1] if self.training else refs

    monkeypatch.setattr(PhoneCTCExpert, "targets", other_utterances_targets)
    _, shuffled = _run("phone_ctc", corpus, tmp_path / "shuffled", steps=200, extra=extra)
    assert trained < shuffled["metrics"]["test"]["per"] - 0.25, (trained, shuffled["metrics"]["test"])


def test_resume_continues_from_last_checkpoint(tone_corpus, tmp_path):
    _run("phone_linear", tone_corpus, tmp_path / "exp", steps=20)
    assert torch.load(tmp_path / "exp" / "states-20.ckpt", weights_only=True)["state"]["step"] == 20
    from aalbert.downstream.experiment_config import load_experiment_config

    at_20 = torch.load(tmp_path / "exp" / "states-20.ckpt", weights_only=True)["model"]
    cfg = load_experiment_config(tmp_path / "exp", ["runner.total_steps=30"])
    res = Runner(cfg, tmp_path / "exp", upstream=FakeUpstream()).train()
    assert res["steps"] == 30
    continued = torch.load(tmp_path / "exp" / "states-30.ckpt", weights_only=True)
    assert continued["state"]["step"] == 30
    assert not (tmp_path / "exp" / "states-20.ckpt").exists()  # the latest state is all a resume needs
    # the ten steps trained, exactly as a straight 30-step run (same evaluation steps) trains them
    _run("phone_linear", tone_corpus, tmp_path / "straight", steps=30, extra=["runner.eval_step=10"])
    straight = torch.load(tmp_path / "straight" / "states-30.ckpt", weights_only=True)["model"]
    for part, tensors in continued["model"].items():
        for key, value in tensors.items():
            assert torch.equal(value, straight[part][key]), f"{part}.{key}"
    assert any(not torch.equal(v, at_20["expert"][k]) for k, v in continued["model"]["expert"].items())


def test_label_length_mismatch_names_the_utterance(tone_corpus, tmp_path):
    class ShortUpstream(FakeUpstream):
        def forward(self, wavs):
            out = super().forward(wavs)
            out["lengths"] = out["lengths"] - 5  # five frames fewer than the labels
            return out

    with pytest.raises(LabelLengthError, match=r"utterance 10\d-7-\d{4}"):
        _run("phone_linear", tone_corpus, tmp_path / "exp", steps=2, upstream=ShortUpstream())


def test_corrupt_audio_names_the_file_before_training(tmp_path):
    from tone_corpus import make_tone_corpus

    from aalbert.corpus.problems import CorpusValidationError

    root = make_tone_corpus(tmp_path / "c", speakers=2, utterances=3)
    for name in ("100-7-0000.flac", "101-7-0002.flac"):
        (root / "train-tiny" / name[:3] / "7" / name).write_bytes(b"not a flac file")
    with pytest.raises(CorpusValidationError, match="(?s)2 problem.*100-7-0000.flac.*101-7-0002.flac"):
        _run("speaker_utterance", root, tmp_path / "exp", steps=4, extra=["runner.batch_size=8"])
    assert not (tmp_path / "exp").exists()  # reported before anything was trained or written


def test_patience_stops_after_dev_evaluations_without_improvement(tone_corpus, tmp_path):
    # lr 0: nothing changes, so the first dev evaluation stays the best and patience 2 stops at the third
    _, res = _run(
        "phone_linear",
        tone_corpus,
        tmp_path / "exp",
        steps=60,
        extra=["runner.eval_step=5", "runner.patience=2", "optimizer.lr=0"],
    )
    assert res["steps"] == 15 and res["metrics"]["dev_best"]["step"] == 5
    with pytest.raises(Exception, match="runner.patience must be >= 1"):
        build_config("phone_linear", overrides=["runner.patience=0"])
