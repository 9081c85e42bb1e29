"""A task says once what it reads (``labels``, ``split_policy``); what the corpus loader provides and
the checks before the first step are derived from that; the previous release's spellings still work."""

import dataclasses

import pytest

import aalbert.downstream.experiment_config as experiment_config
import aalbert.downstream.runner as runner_module
from aalbert.downstream.data import TaskData
from aalbert.downstream.expert import Expert, MLPHeadConfig
from aalbert.downstream.registry import Task, builtin_tasks, load_task
from aalbert.downstream.task_checks import check_declarations
from aalbert.downstream.utterance_classifier import UtteranceClassifierExpert
from aalbert.errors import TaskRequirementError
from aalbert.testing import make_tone_corpus, train_task

# what each built-in task asked of the corpus loader before the declaration was one place
BUILTIN_NEEDS = {
    "phone_linear": TaskData("frames", "disjoint_speakers"),
    "phone_1hidden": TaskData("frames", "disjoint_speakers"),
    "phone_2hidden": TaskData("frames", "disjoint_speakers"),
    "phone_ctc": TaskData("sequence", "disjoint_speakers"),
    "speaker_frame": TaskData("none", "per_speaker", speaker_classes=True),
    "speaker_utterance": TaskData("none", "per_speaker", speaker_classes=True),
    "speaker_gender": TaskData("none", "disjoint_speakers", False, ("speaker.gender",), True),
}


def test_builtin_tasks_ask_the_loader_for_what_they_did():
    assert set(BUILTIN_NEEDS) <= set(builtin_tasks())
    for name, needs in BUILTIN_NEEDS.items():
        expert = load_task(name).expert_class
        assert expert.task_data(name) == TaskData(**{**needs.__dict__, "task": name, "labels": expert.labels}), name
        check_declarations(name, expert)


def test_the_loader_needs_follow_the_labels():
    class SpeakerAndAge(Expert):
        Config = MLPHeadConfig
        labels = ("speaker", "utterance.age")

    assert SpeakerAndAge.task_data("t") == TaskData(
        "none", "per_speaker", True, ("utterance.age",), False, "t", ("speaker", "utterance.age")
    )

    class GenderFromFrames(Expert):
        Config = MLPHeadConfig
        labels = ("speaker.gender", "frame_phones")
        split_policy = "disjoint_speakers"

    assert GenderFromFrames.task_data() == TaskData(
        "frames", "disjoint_speakers", False, ("speaker.gender",), True, labels=("speaker.gender", "frame_phones")
    )


@pytest.mark.parametrize(
    "labels, problem",
    [
        ("speaker", r"labels must be a tuple of label names, e\.g\. \('speaker',\), got 'speaker'"),
        (("frame_phones", "phone_sequence"), "reads both frame_phones and phone_sequence"),
        (("speaker.",), "unknown label 'speaker.'"),
    ],
)
def test_a_declaration_the_loader_cannot_meet_is_refused_by_name(labels, problem):
    expert = type("Odd", (UtteranceClassifierExpert,), {"labels": labels})
    with pytest.raises(TaskRequirementError, match=rf"^task odd \(.*Odd\): {problem}"):
        check_declarations("odd", expert)


def test_previous_release_spellings_become_labels_with_a_warning():
    with pytest.warns(
        DeprecationWarning, match=r"Gender: label = 'speaker.gender' .*write labels = \('speaker.gender',\)"
    ):

        class Gender(UtteranceClassifierExpert):
            label = "speaker.gender"
            split_policy = "disjoint_speakers"

    assert Gender.labels == ("speaker.gender",)
    assert Gender.task_data() == dataclasses.replace(BUILTIN_NEEDS["speaker_gender"], labels=("speaker.gender",))

    # the previous release's plugin example: labels and speaker_classes both
    with pytest.warns(
        DeprecationWarning,
        match=r"MaxPool: speaker_classes = True .*: labels = \('speaker',\) already says it: remove it",
    ):

        class MaxPool(Expert):
            Config = MLPHeadConfig
            labels = ("speaker",)
            speaker_classes = True

    assert MaxPool.labels == ("speaker",) and MaxPool.task_data().speaker_classes

    with pytest.warns(DeprecationWarning, match=r"write labels = \('frame_phones', 'speaker'\)"):

        class FramesAndSpeakers(Expert):
            Config = MLPHeadConfig
            labels = ("frame_phones",)
            speaker_classes = True

    assert FramesAndSpeakers.task_data().speaker_classes


@pytest.mark.parametrize(
    "declaration, instead",
    [
        ({"needs_phones": True}, r"needs_phones is no longer read: write labels = \('frame_phones',\)"),
        ({"phone_labels": "sequence"}, r"phone_labels is no longer read: write labels = \('phone_sequence',\)"),
        ({"speaker_classes": False, "labels": ("speaker",)}, "speaker_classes = False"),
    ],
)
def test_declarations_without_a_user_are_refused_saying_what_to_write(declaration, instead):
    with pytest.raises(TaskRequirementError, match=rf"Old: {instead}"):
        type("Old", (Expert,), {"Config": MLPHeadConfig, **declaration})


def test_a_task_in_the_previous_spelling_trains(monkeypatch, tmp_path):
    with pytest.warns(DeprecationWarning):

        class OldGender(UtteranceClassifierExpert):
            label = "speaker.gender"
            split_policy = "disjoint_speakers"

    task = Task("old_gender", OldGender, load_task("speaker_gender").default_config, "test")
    for module in (runner_module, experiment_config):
        monkeypatch.setattr(module, "load_task", lambda n: task if n == "old_gender" else load_task(n))
    corpus = make_tone_corpus(tmp_path / "c", speakers=6, utterances=3)
    results = train_task("old_gender", corpus, tmp_path / "exp", steps=2)
    train, test = (
        {line.split("-")[0] for line in (tmp_path / "exp" / "splits" / f"{s}.txt").read_text().split()}
        for s in ("train", "test")
    )
    assert not train & test  # the declaration it made in the old spelling decided the split
    assert set(results["metrics"]["test"]) >= {"accuracy"}
