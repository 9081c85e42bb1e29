"""The demo's figure: a bar per upstream, 0-100% on both panels, each task's chance line; read back
from a finished demo folder by `aalbert plots demo`."""

import json

import pytest

from aalbert.demo_report import (
    Row,
    Trial,
    chance_of,
    choose_on_dev,
    chosen_row,
    plot_results,
    results_figure,
    rows_from_demo,
    write_table,
)

PHONE_CHANCE = {"class": "sil", "classes": 40, "uniform": 0.025, "test": 0.187}
SPEAKER_CHANCE = {"class": "19", "classes": 12, "uniform": 1 / 12, "test": 1 / 12}


def results(
    task: str, upstream: str, accuracy: float, chance: dict | None, parameters: int = 0, dev: float | None = None
) -> dict:
    return {
        "task": task,
        "main_metric": "accuracy",
        "metrics": {
            "dev_best": {"accuracy": accuracy if dev is None else dev, "step": 4},
            "test": {"accuracy": accuracy},
        },
        "featurizer": {"mode": "weighted_sum", "layer_norm": False, "layer_weights": [1.0]},
        "upstream": {"name": upstream, "num_parameters": parameters},
        "data": {"speakers": 12, "phones": 40},
        **({"chance": chance} if chance else {}),
    }


def demo_folder(root):
    for upstream, phone, speaker, params in (("aalbert", 0.61, 0.95, 1000), ("fbank", 0.55, 0.90, 0)):
        for task, acc, chance in (
            ("phone_linear", phone, PHONE_CHANCE),
            ("speaker_utterance", speaker, SPEAKER_CHANCE),
        ):
            folder = root / "downstream" / f"{upstream}_{task}"
            folder.mkdir(parents=True)
            (folder / "results.json").write_text(json.dumps(results(task, upstream, acc, chance, params)))
            (root / "downstream" / f"{upstream}_{task}.step.json").write_text(json.dumps({"wall_seconds": 10.0}))
    return root


def test_rows_come_back_from_a_demo_folder_log_mel_first(tmp_path):
    rows = rows_from_demo(demo_folder(tmp_path))
    assert [r.upstream for r in rows] == ["fbank", "aalbert"]
    assert rows[1].parameters == 1000 and rows[1].phone_accuracy == 0.61 and rows[1].speaker_accuracy == 0.95
    assert rows[1].downstream_seconds == 20.0 and rows[1].pretrain_seconds == 0.0  # no pretraining marker
    assert rows[0].phone_chance == PHONE_CHANCE and rows[0].speaker_chance == SPEAKER_CHANCE
    assert plot_results(rows, tmp_path / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_both_panels_draw_their_chance_on_a_fixed_axis():
    rows = [Row("fbank", 0, 0.55, 0.90, 0, 0, PHONE_CHANCE, SPEAKER_CHANCE), Row("aalbert", 10, 0.61, 0.95, 0, 0)]
    phone, speaker = results_figure(rows).axes
    assert [p.get_height() for p in phone.patches] == pytest.approx([55.0, 61.0])
    assert phone.get_ylim() == speaker.get_ylim() == (0.0, 108.0)  # fixed, with headroom for a bar label at 100 %
    (phone_chance,) = phone.lines
    (speaker_chance,) = speaker.lines
    assert list(phone_chance.get_ydata()) == pytest.approx([18.7, 18.7])
    assert list(speaker_chance.get_ydata()) == pytest.approx([100 / 12, 100 / 12])
    assert "majority class 'sil'" in phone_chance.get_label()


def test_results_of_an_older_release_give_one_over_the_classes():
    assert chance_of(results("phone_linear", "x", 0.5, PHONE_CHANCE)) == PHONE_CHANCE
    old = chance_of(results("speaker_utterance", "x", 0.5, None))
    assert old["class"] is None and old["test"] == pytest.approx(1 / 12)
    assert chance_of(results("phone_linear", "x", 0.5, None))["classes"] == 40


def test_the_table_states_each_tasks_chance(tmp_path):
    from types import SimpleNamespace

    settings = SimpleNamespace(
        speakers=12,
        utterances=12,
        min_words=4,
        max_words=10,
        pretrain_steps=300,
        downstream_steps=200,
        downstream_lr=0.01,
    )
    rows = [Row("fbank", 0, 0.55, 0.90, 0, 5, PHONE_CHANCE, SPEAKER_CHANCE)]
    text = write_table(rows, tmp_path, settings, total_seconds=60)
    assert "Chance (train's majority class, on test): phone_linear 18.7%, speaker_utterance 8.3%." in text
    assert "| fbank | 0 | 55.0% | 90.0% |" in text and (tmp_path / "results.png").is_file()


def write_results(root, upstream: str, task: str, suffix: str, dev: float, test: float) -> None:
    folder = root / "downstream" / f"{upstream}_{task}{suffix}"
    folder.mkdir(parents=True)
    (folder / "results.json").write_text(json.dumps(results(task, upstream, test, PHONE_CHANCE, dev=dev)))
    (root / "downstream" / f"{upstream}_{task}{suffix}.step.json").write_text(json.dumps({"wall_seconds": 5.0}))


def test_the_setting_is_chosen_on_dev_never_on_test(tmp_path):
    # phones: layer norm is better on test but worse on dev -> the row reports "as is" and its test score;
    # speakers: layer norm is better on dev (and worse on test) -> the row reports layer norm's test score
    for task, plain, normed in (
        ("phone_linear", (0.60, 0.55), (0.58, 0.70)),
        ("speaker_utterance", (0.40, 0.90), (0.50, 0.80)),
    ):
        write_results(tmp_path, "fbank", task, "", *plain)
        write_results(tmp_path, "fbank", task, "_ln", *normed)
    (row,) = rows_from_demo(tmp_path)
    assert row.phone_accuracy == 0.55 and row.phone_setting == "as is"
    assert row.speaker_accuracy == 0.80 and row.speaker_setting == "layer norm"
    assert row.downstream_seconds == 20.0  # all four runs
    assert [t.setting for t in row.phone_trials] == ["as is", "layer norm"]


def test_a_tie_on_dev_keeps_the_hidden_states_as_they_are():
    trials = [Trial("as is", 0.5, 0.4), Trial("layer norm", 0.5, 0.9)]
    assert choose_on_dev(trials).setting == "as is"
    assert choose_on_dev(list(reversed(trials))).setting == "layer norm"  # the first of equals: order decides
    with pytest.raises(ValueError):
        choose_on_dev([])


def test_the_table_has_log_mel_at_its_best_and_every_setting(tmp_path):
    from types import SimpleNamespace

    settings = SimpleNamespace(
        speakers=12,
        utterances=12,
        min_words=4,
        max_words=10,
        pretrain_steps=300,
        downstream_steps=200,
        downstream_lr=0.01,
    )
    fbank = chosen_row(
        "fbank",
        0,
        [Trial("as is", 0.50, 0.52), Trial("layer norm", 0.55, 0.56), Trial("cmvn", 0.58, 0.61)],
        [Trial("as is", 0.60, 0.65), Trial("layer norm", 0.90, 0.95), Trial("cmvn", 0.10, 0.12)],
        0,
        10,
    )
    aalbert = chosen_row(
        "aalbert",
        10,
        [Trial("as is", 0.66, 0.64), Trial("layer norm", 0.65, 0.66)],
        [Trial("as is", 0.85, 0.88), Trial("layer norm", 0.84, 0.93)],
        100,
        20,
    )
    text = write_table([fbank, aalbert], tmp_path, settings, total_seconds=60)
    # log-mel at its best: with CMVN on phones, with layer norm on speakers (each chosen on dev)
    assert "| fbank | 0 | 61.0% | 95.0% | - | - | cmvn / layer norm |" in text
    # aalbert is read against log-mel at its best, in points: 64 - 61, 88 - 95
    assert "| aalbert | 10 | 64.0% | 88.0% | +3.0 | -7.0 | as is / as is |" in text
    assert (
        "| fbank | 50.0 / 52.0 | 55.0 / 56.0 | **58.0 / 61.0** | 60.0 / 65.0 | **90.0 / 95.0** | 10.0 / 12.0 |" in text
    )
    # a setting not run (an earlier release's demo) is a dash
    assert "| aalbert | **66.0 / 64.0** | 65.0 / 66.0 | - | **85.0 / 88.0** | 84.0 / 93.0 | - |" in text
    assert "trained as is, with featurizer.layer_norm=true and with featurizer.cmvn=true:" in text


def test_a_demo_folder_of_an_earlier_release_has_one_setting(tmp_path):
    rows = rows_from_demo(demo_folder(tmp_path))
    assert all(len(r.phone_trials) == len(r.speaker_trials) == 1 for r in rows)
    assert rows[0].phone_setting == "as is" and rows[0].phone_accuracy == 0.55
