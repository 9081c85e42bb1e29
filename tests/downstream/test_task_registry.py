from pathlib import Path

import pytest
from downstream_fakes import write_file

from aalbert.config import ConfigError
from aalbert.downstream import UnknownTaskError, available_tasks, load_task
from aalbert.downstream.expert import Expert
from aalbert.downstream.frame_classifier import FrameClassifierExpert
from aalbert.downstream.registry import load_task_config
from aalbert.downstream.speaker import SpeakerUtteranceExpert

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


ALL_BUILTIN = [
    "asr_ctc",
    "intent_classification",
    "keyword_spotting",
    *BUILTIN[:5],
    "speaker_gender",
    "speaker_utterance",
    "speaker_verification",
    "utterance_regression",
]
WITH_CODE = ("keyword_spotting", "speaker_gender")  # the task folders with an expert.py of their own


def test_a_task_folder_is_its_config_and_only_its_own_code():
    from aalbert.downstream import registry

    assert registry.builtin_tasks() == ALL_BUILTIN
    root = Path(registry.__file__).parent
    for name in ALL_BUILTIN:
        files = {p.name for p in (root / name).iterdir() if p.name != "__pycache__"}
        assert files == ({"config.yaml", "expert.py"} if name in WITH_CODE else {"config.yaml"}), name
    assert load_task("phone_ctc").expert_class.__name__ == "PhoneCTCExpert"
    assert load_task("speaker_gender").expert_class.__module__ == "aalbert.downstream.speaker_gender.expert"


def test_phone_heads_extend_one_base_and_differ_only_in_hidden_layers():
    defaults = {name: load_task(name).defaults() for name in ("phone_linear", "phone_1hidden", "phone_2hidden")}
    assert [d["model"].pop("hidden_layers") for d in defaults.values()] == [0, 1, 2]
    assert defaults["phone_linear"] == defaults["phone_1hidden"] == defaults["phone_2hidden"]
    assert defaults["phone_linear"]["model"] == {"hidden_size": 768, "dropout": 0.1}
    assert defaults["phone_linear"]["runner"]["total_steps"] == 20000
    assert "expert" not in defaults["phone_linear"] and "extends" not in defaults["phone_linear"]
    files = load_task("phone_1hidden").config_files
    assert [f.name for f in files] == ["config.yaml", "phone.yaml"]  # one base layer


def test_a_config_extends_a_chain_of_bases_and_overrides_them(task_root):
    write_file(task_root / "bases" / "common.yaml", "runner: {total_steps: 10, eval_step: 5}\nmodel: {dropout: 0.5}\n")
    write_file(
        task_root / "bases" / "frames.yaml",
        "extends: common.yaml\nexpert: aalbert.downstream.speaker:SpeakerFrameExpert\nrunner: {eval_step: 2}\n",
    )
    write_file(
        task_root / "mytask" / "config.yaml",
        "extends: ../bases/frames.yaml\n"
        "expert: aalbert.downstream.speaker:SpeakerUtteranceExpert\nmodel: {hidden_layers: 1}\n",
    )
    task = load_task("mytask")
    assert task.expert_class is SpeakerUtteranceExpert  # its own choice wins over the base's
    assert task.defaults() == {
        "runner": {"total_steps": 10, "eval_step": 2},
        "model": {"dropout": 0.5, "hidden_layers": 1},
    }
    assert [p.relative_to(task_root).as_posix() for p in task.config_files] == [
        "mytask/config.yaml",
        "bases/frames.yaml",
        "bases/common.yaml",
    ]


def test_a_missing_or_looping_base_names_the_file(task_root):
    config = write_file(task_root / "lost" / "config.yaml", "extends: ../nowhere.yaml\n")
    with pytest.raises(ConfigError, match=f"{config}: extends: ../nowhere.yaml: no such file"):
        load_task_config(config)
    write_file(task_root / "a.yaml", "extends: b.yaml\n")
    write_file(task_root / "b.yaml", "extends: a.yaml\n")
    looping = write_file(task_root / "loop" / "config.yaml", "extends: ../a.yaml\n")
    loop = "extends makes a loop: .*loop/config.yaml -> .*a.yaml -> .*b.yaml -> .*a.yaml"
    with pytest.raises(ConfigError, match=loop):
        load_task_config(looping)
    itself = write_file(task_root / "self.yaml", "extends: self.yaml\n")
    with pytest.raises(ConfigError, match="loop"):
        load_task_config(itself)
    with pytest.raises(ConfigError, match="extends must be the path"):
        load_task_config(write_file(task_root / "bad.yaml", "extends: [a.yaml]\n"))


@pytest.mark.parametrize(
    "spec, problem",
    [
        ("aalbert.downstream.speaker.SpeakerFrameExpert", "must name the expert class as module:Class"),
        (None, "must name the expert class"),
        ("aalbert.downstream.no_such_module:Expert", "there is no module aalbert.downstream.no_such_module"),
        ("aalbert.downstream.speaker:NoSuchExpert", "module aalbert.downstream.speaker has no NoSuchExpert"),
        ("aalbert.downstream.expert:TaskContext", "is not a subclass of aalbert.downstream.expert.Expert"),
    ],
)
def test_a_wrong_expert_name_is_an_error_naming_the_config(task_root, spec, problem):
    config = write_file(task_root / "wrong" / "config.yaml", f"expert: {spec if spec else 'null'}\nmodel: {{}}\n")
    with pytest.raises(ConfigError) as info:
        load_task("wrong")
    assert str(config) in str(info.value) and problem in str(info.value)


def test_a_config_without_expert_and_without_code_says_what_to_add(task_root):
    write_file(task_root / "bare" / "config.yaml", "model: {}\n")
    with pytest.raises(TypeError, match="has no Expert class.*name a shared one in .*bare/config.yaml"):
        load_task("bare")
