"""`make demo` end to end at toy size: every step runs, the table is written, a rerun reuses it all."""

import json
import subprocess

import pytest

from aalbert import demo
from aalbert.demo_report import SETTINGS, choose_on_dev, trial_of


@pytest.mark.slow
def test_demo_runs_every_step_then_reuses_them(tmp_path, monkeypatch):
    settings = demo.DemoSettings(
        out=tmp_path / "out",
        corpus=tmp_path / "corpus",
        speakers=3,
        utterances=10,
        min_words=2,
        max_words=4,
        pretrain_steps=2,
        downstream_steps=4,
    )
    rows = demo.run(settings)

    assert [r.upstream for r in rows] == ["fbank", "aalbert", "mockingjay"]
    fbank, aalbert, mockingjay = rows
    assert fbank.parameters == 0 and 0 < aalbert.parameters < mockingjay.parameters  # shared vs separate layers
    for r in rows:
        assert 0.0 <= r.phone_accuracy <= 1.0 and 0.0 <= r.speaker_accuracy <= 1.0
    table = (settings.out / "results.md").read_text()
    assert "| aalbert |" in table and "| mockingjay |" in table and "| fbank |" in table
    assert (settings.out / "results.png").read_bytes()[:4] == b"\x89PNG"
    assert (settings.out / "pretrain" / "aalbert" / "states-2.ckpt").is_file()
    assert not (settings.out / "features").exists() or not any((settings.out / "features").iterdir())
    results = json.loads((settings.out / "downstream" / "aalbert_phone_linear" / "results.json").read_text())
    assert results["steps"] == 4 and results["config"]["runner"]["feature_cache"].endswith("features/aalbert")
    # every upstream, log-mel included, trains each task as is, with layer norm and with CMVN: the same head and
    # steps; the row reports the test score of the setting that was better on dev
    for row in rows:
        for task, reported, chosen in (
            ("phone_linear", row.phone_accuracy, row.phone_setting),
            ("speaker_utterance", row.speaker_accuracy, row.speaker_setting),
        ):
            trials = []
            for setting, suffix in SETTINGS.items():
                run = json.loads(
                    (settings.out / "downstream" / f"{row.upstream}_{task}{suffix}" / "results.json").read_text()
                )
                assert run["config"]["featurizer"]["layer_norm"] is (setting == "layer norm")
                assert run["config"]["featurizer"]["cmvn"] is (setting == "cmvn")
                assert run["steps"] == 4 and run["config"]["optimizer"]["lr"] == settings.downstream_lr
                trials.append(trial_of(run, setting))
            best = choose_on_dev(trials)
            assert (reported, chosen) == (best.test, best.setting)
    assert "Every setting, dev-best / test accuracy" in table

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a finished demo step ran again: {args[0]}")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    again = demo.run(settings)
    assert [(r.phone_accuracy, r.speaker_accuracy) for r in again] == [
        (r.phone_accuracy, r.speaker_accuracy) for r in rows
    ]
    # 2 pretrainings + 3 upstreams x 2 tasks x 3 featurizer settings
    assert len(SETTINGS) == 3 and "(20 finished steps reused" in (settings.out / "results.md").read_text()


@pytest.mark.slow
def test_interrupted_pretraining_continues_from_its_checkpoint(tmp_path, monkeypatch, capsys):
    from aalbert.corpus import synthesize

    monkeypatch.setattr(demo, "PRETRAIN_SAVE_EVERY", 2)
    settings = demo.DemoSettings(
        out=tmp_path / "out",
        corpus=tmp_path / "corpus",
        speakers=2,
        utterances=4,
        min_words=2,
        max_words=3,
        pretrain_steps=4,
    )
    synthesize(settings.corpus, speakers=2, utterances=4, seed=0, words_per_utterance=(2, 3))
    train_list = demo._train_list(settings.corpus, tmp_path)
    ckpt, _, _ = demo.pretrain(settings, "aalbert", train_list)
    assert ckpt.name == "states-4.ckpt" and (ckpt.parent / "states-2.ckpt").is_file()
    # as if killed between the checkpoints of steps 2 and 4
    ckpt.unlink()
    marker = ckpt.parent.with_name("aalbert.step.json")
    marker.write_text(json.dumps({**json.loads(marker.read_text()), "finished": False}))
    capsys.readouterr()
    again, _, reused = demo.pretrain(settings, "aalbert", train_list)
    assert again.is_file() and not reused
    assert "continuing the interrupted step" in capsys.readouterr().out
    assert "resuming from states-2.ckpt" in (ckpt.parent.with_name("aalbert.log")).read_text()


def test_a_demo_output_folder_in_use_is_refused(tmp_path):
    from aalbert.folder_lock import FolderBusyError, FolderLock

    settings = demo.DemoSettings(out=tmp_path / "out", corpus=tmp_path / "corpus")
    with FolderLock(settings.out), pytest.raises(FolderBusyError, match="in use by another aalbert run"):
        demo.run(settings)  # a second demo would delete the first one's unfinished steps
    assert not settings.corpus.exists()  # refused before any work
