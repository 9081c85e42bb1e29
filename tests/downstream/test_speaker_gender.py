"""speaker_gender: the reusable utterance head over speaker metadata, speaker-disjoint by default."""

import logging

import pytest
import torch

from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import load_corpus
from aalbert.downstream.data.splits import SplitError
from aalbert.downstream.pooling import AttentiveStatisticsPooling, MeanPooling
from aalbert.downstream.speaker_gender.expert import Expert as GenderExpert
from aalbert.testing import make_tone_corpus, speaker_gender, train_task


@pytest.fixture(scope="module")
def twenty_voices(tmp_path_factory):
    return make_tone_corpus(tmp_path_factory.mktemp("voices"), speakers=20, utterances=4, audible_gender=True)


def _speakers(expdir, split):
    return {line.split("-")[0] for line in (expdir / "splits" / f"{split}.txt").read_text().split()}


def test_speaker_gender_is_speaker_disjoint_and_above_chance(twenty_voices, tmp_path):
    results = train_task("speaker_gender", twenty_voices, tmp_path / "exp", steps=40)
    train, dev, test = (_speakers(tmp_path / "exp", s) for s in ("train", "dev", "test"))
    assert not (train & dev or train & test or dev & test)
    assert len(test) >= 2 and {speaker_gender(int(s) - 100) for s in test} == {"m", "f"}  # both classes tested
    assert results["metrics"]["test"]["accuracy"] > 0.75  # 2 classes, unseen voices
    assert results["task_package"]["name"] == "aalbert"


def test_split_lists_that_share_speakers_are_passed_over_or_refused(twenty_voices, tmp_path, caplog):
    root = tmp_path / "lists"
    root.mkdir()
    ids = sorted(p.stem for p in twenty_voices.rglob("*.flac"))
    for split, part in (("train", ids[0::3]), ("dev", ids[1::3]), ("test", ids[2::3])):  # every speaker everywhere
        (root / f"{split}.txt").write_text("\n".join(part) + "\n")
    needs = GenderExpert.task_data("speaker_gender")
    with pytest.raises(SplitError, match="task speaker_gender: needs speaker-disjoint splits"):
        load_corpus(DataConfig(roots=[str(twenty_voices)], splits=str(root)), needs)
    (twenty_voices / "splits").symlink_to(root)  # found in ROOT/splits rather than given: passed over
    try:
        with caplog.at_level(logging.WARNING):
            corpus = load_corpus(DataConfig(roots=[str(twenty_voices)]), needs)
    finally:
        (twenty_voices / "splits").unlink()
    assert "not using the split lists" in caplog.text
    speakers = {s: {u.speaker for u in corpus.splits[s]} for s in corpus.splits}
    assert not speakers["train"] & speakers["test"]
    assert corpus.speaker_info["101"] == {"gender": "f"}


def test_pooling_ignores_padding():
    torch.manual_seed(0)
    frames = torch.randn(1, 5, 4)
    padded = torch.cat([frames, torch.randn(1, 3, 4) * 100], dim=1)
    for pooling in (MeanPooling(4), AttentiveStatisticsPooling(4)):
        alone = pooling(frames, torch.tensor([5]))
        assert torch.allclose(alone, pooling(padded, torch.tensor([5])), atol=1e-5)
    assert AttentiveStatisticsPooling(4)(frames, torch.tensor([5])).shape == (1, 8)
