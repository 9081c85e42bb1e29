"""A task's declarations are checked before its first training step; each failure names the task."""

import shutil

import pytest

import aalbert.downstream.experiment_config as experiment_config
import aalbert.downstream.runner as runner_module
from aalbert.downstream.data.splits import SplitError
from aalbert.downstream.registry import Task, load_task
from aalbert.downstream.utterance_classifier import UtteranceClassifierExpert
from aalbert.errors import AalbertError, TaskRequirementError
from aalbert.testing import make_tone_corpus, train_task


class MisnamedMetric(UtteranceClassifierExpert):
    main_metric = "acc"  # metrics() gives "accuracy"


class TooManyOutputs(UtteranceClassifierExpert):
    labels = ("speaker.gender",)
    split_policy = "disjoint_speakers"

    def __init__(self, context, config):
        super().__init__(context, config)
        self.classifier = self.classifier.__class__(
            *list(self.classifier)[:-1], type(self.classifier[-1])(context.input_dim, 3)
        )


class SpeakersOnUnseenVoices(UtteranceClassifierExpert):  # reads "speaker": its classes are speakers
    split_policy = "disjoint_speakers"


@pytest.fixture
def task_named(monkeypatch):
    def register(name, expert_class):
        default = load_task("speaker_utterance").default_config
        task = Task(name, expert_class, default, "test")
        for module in (runner_module, experiment_config):
            monkeypatch.setattr(module, "load_task", lambda n: task if n == name else load_task(n))

    return register


@pytest.fixture(scope="module")
def six_voices(tmp_path_factory):
    return make_tone_corpus(tmp_path_factory.mktemp("six"), speakers=6, utterances=4)


@pytest.mark.parametrize(
    "expert, match",
    [
        (MisnamedMetric, "task bad_task: main_metric 'acc' is not among the metrics its Expert.metrics gives"),
        (TooManyOutputs, "task bad_task: its head outputs 3 classes but the label set has 2"),
        (SpeakersOnUnseenVoices, r"task bad_task \(.*\): predicts speakers"),
    ],
)
def test_wrong_declarations_fail_before_training(expert, match, task_named, six_voices, tmp_path):
    task_named("bad_task", expert)
    with pytest.raises(TaskRequirementError, match=match):
        train_task("bad_task", six_voices, tmp_path / "exp", steps=4)
    assert not list((tmp_path / "exp").glob("states-*.ckpt"))  # not one step was trained


def test_split_policy_the_corpus_cannot_satisfy(tmp_path):
    two_speakers = make_tone_corpus(tmp_path / "c", speakers=2, utterances=3)
    with pytest.raises(SplitError, match="task speaker_gender: a speaker-disjoint split needs at least 3 speakers"):
        train_task("speaker_gender", two_speakers, tmp_path / "exp", steps=4)


def test_labels_the_corpus_lacks(six_voices, tmp_path):
    corpus = tmp_path / "no_metadata"
    shutil.copytree(six_voices, corpus)
    (corpus / "SPEAKERS.TXT").unlink()
    with pytest.raises(
        TaskRequirementError,
        match="task speaker_gender reads speaker.gender, but no speaker of the librispeech corpus .* has .gender. .speaker metadata found: none",
    ):
        train_task("speaker_gender", corpus, tmp_path / "exp", steps=4)
    shutil.rmtree(corpus / "alignment")
    with pytest.raises(AalbertError, match="task phone_linear: this task needs phone alignments"):
        train_task("phone_linear", corpus, tmp_path / "exp2", steps=4)
