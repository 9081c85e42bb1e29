import pytest

from aalbert.downstream import UnknownTaskError, available_tasks, load_task
from aalbert.downstream.expert import Expert
from aalbert.downstream.frame_classifier import FrameClassifierExpert

BUILTIN = ["phone_1hidden", "phone_2hidden", "phone_ctc", "phone_linear", "speaker_frame", "speaker_utterance"]


def test_builtin_tasks_are_found_by_folder_name():
    assert set(BUILTIN) <= set(available_tasks())
    for name in BUILTIN:
        task = load_task(name)
        assert issubclass(task.expert_class, Expert) and task.default_config.is_file()


def test_phone_tasks_share_one_expert_and_differ_in_hidden_layers():
    import yaml

    for name, layers in (("phone_linear", 0), ("phone_1hidden", 1), ("phone_2hidden", 2)):
        task = load_task(name)
        assert task.expert_class is FrameClassifierExpert
        assert yaml.safe_load(task.default_config.read_text())["model"]["hidden_layers"] == layers


def test_unknown_task_lists_known_ones():
    with pytest.raises(UnknownTaskError) as info:
        load_task("phone_linaer")
    message = str(info.value)
    assert "phone_linaer" in message and all(name in message for name in BUILTIN)
