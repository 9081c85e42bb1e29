"""TIMIT as distributed: early-ending .PHN files, TRAIN-only copies, folding, task-aware splits."""

import numpy as np
import pytest
import soundfile
from corpus_layouts import write_timit
from downstream_fakes import FakeUpstream

from aalbert.corpus.frames import num_frames
from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.readers.timit import phn_frame_labels, read_phn
from aalbert.corpus.readers.timit_phones import FOLD_61_TO_39, PHONES_39, PHONES_48, fold_phone
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner

TIMIT_61 = (
    "aa ae ah ao aw ax ax-h axr ay b bcl ch d dcl dh dx eh el em en eng epi er ey f g gcl h# hh hv "
    "ih ix iy jh k kcl l m n ng nx ow oy p pau pcl q r s sh t tcl th uh uw ux v w y z zh"
).split()
PHONES = TaskData("frames", "disjoint_speakers")


def test_lee_hon_folding_gives_48_and_39_classes():
    assert len(TIMIT_61) == 61 and len(PHONES_48) == 48 and len(PHONES_39) == 39
    assert {fold_phone(p, 48) for p in TIMIT_61} - {None} == set(PHONES_48)
    assert {fold_phone(p, 39) for p in TIMIT_61} - {None} == set(PHONES_39)
    assert fold_phone("q") is None
    assert {fold_phone(p) for p in ("h#", "pau", "epi", "bcl", "kcl")} == {"sil"}
    assert fold_phone("bcl", 48) == "vcl" and fold_phone("kcl", 48) == "cl" and fold_phone("zh", 48) == "zh"
    assert fold_phone("AX-H") == "ah" and fold_phone("zh") == "sh" and fold_phone("ux") == "uw"
    assert set(FOLD_61_TO_39) < set(TIMIT_61)
    with pytest.raises(KeyError):
        fold_phone("zz")


def test_phn_labels_follow_the_frame_convention_and_q_goes_to_the_phone_before(tmp_path):
    f = tmp_path / "SX1.PHN"
    # 0-400 h#, 400-500 q (removed), 500-900 iy, 900-1120 pcl
    f.write_text("0 400 h#\n400 500 q\n500 900 iy\n900 1120 pcl\n")
    sil, iy = PHONES_39.index("sil"), PHONES_39.index("iy")
    # frames centred at samples 0, 160, ..., 1120 (n // 160 + 1 = 8 frames); 480 lies in q -> sil
    assert phn_frame_labels(read_phn(f), 1120, PHONES_39) == [sil, sil, sil, sil, iy, iy, sil, sil]


def test_phn_ending_early_is_completed_with_silence_and_trains(tones, tmp_path):
    # like DR3/MADC0/SI1367.PHN of the public sample: the labels stop 2802 samples before the audio
    root = write_timit(tones, tmp_path / "timit", phn_short_by={"100-7-0001": 2802})
    corpus = load_corpus(DataConfig(format="timit", roots=[str(root)]), PHONES)
    utt = next(u for part in corpus.splits.values() for u in part if u.uttid == "MSPK100_SX1")
    assert len(utt.phones) == num_frames(utt.num_samples)
    assert set(utt.phones[-(2802 // 160) :]) == {PHONES_39.index("sil")}
    # training used to stop part-way through an epoch with a label-length error
    cfg = build_config(
        "phone_linear",
        overrides=[
            f"data.roots=[{root}]",
            "data.format=timit",
            "data.split_policy=per_speaker",
            "runner.total_steps=3",
            "runner.eval_step=3",
            "runner.batch_size=32",
        ],
        upstream="fake",
    )
    res = Runner(cfg, tmp_path / "exp", upstream=FakeUpstream()).train()
    assert res["steps"] == 3


def test_phn_far_too_short_or_long_is_reported_up_front_with_every_bad_file(tones, tmp_path):
    root = write_timit(tones, tmp_path / "timit", phn_short_by={"100-7-0001": 9000, "101-7-0002": -9000})
    (root / "TRAIN" / "DR1" / "MSPK102" / "SX3.PHN").write_text("0 100 h#\n100 200 zz\n")
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="timit", roots=[str(root)]), PHONES)
    text = str(err.value)
    assert "3 problem(s)" in text
    assert "MSPK100/SX1.PHN: labels end at sample" in text and "before the audio" in text
    assert "MSPK101/SX2.PHN: labels run to sample" in text
    assert "MSPK102/SX3.PHN:2: unknown TIMIT phone 'zz'" in text


def test_train_only_copy_is_split_by_speaker_for_phone_tasks(tones, tmp_path):
    root = write_timit(tones, tmp_path / "timit")  # no TEST folder, as NLTK's sample
    corpus = load_corpus(DataConfig(format="timit", roots=[str(root)]), PHONES)
    speakers = {s: {u.speaker for u in corpus.splits[s]} for s in ("train", "dev", "test")}
    assert all(len(v) == 1 for v in speakers.values())
    assert not speakers["train"] & (speakers["dev"] | speakers["test"])


def test_test_folder_is_the_test_split_for_phone_tasks(tones, tmp_path):
    root = write_timit(tones, tmp_path / "timit", parts={"TRAIN": ["100", "101"], "TEST": ["102"]})
    corpus = load_corpus(DataConfig(format="timit", roots=[str(root)]), PHONES)
    assert {u.speaker for u in corpus.splits["test"]} == {"MSPK102"}
    assert len({u.speaker for u in corpus.splits["dev"]}) == 1
    assert corpus.phone_names == PHONES_39
    only_test = write_timit(tones, tmp_path / "timit_test", parts={"TEST": ["100", "101", "102"]})
    assert load_corpus(DataConfig(format="timit", roots=[str(only_test)]), PHONES).splits["test"]


def test_48_phone_set(tones, tmp_path):
    root = write_timit(tones, tmp_path / "timit")
    corpus = load_corpus(DataConfig(format="timit", roots=[str(root)], timit_phone_set=48), PHONES)
    assert corpus.phone_names == PHONES_48


def test_speaker_task_on_timit_scores_above_chance(tones, tmp_path):
    # TRAIN and TEST hold different speakers; a speaker task must still see every speaker in training
    root = write_timit(tones, tmp_path / "timit", parts={"TRAIN": ["100", "101"], "TEST": ["102"]})
    cfg = build_config(
        "speaker_utterance",
        overrides=[
            f"data.roots=[{root}]",
            "data.format=timit",
            "runner.total_steps=40",
            "runner.eval_step=20",
            "optimizer.lr=0.01",
        ],
        upstream="fake",
    )
    res = Runner(cfg, tmp_path / "exp", upstream=FakeUpstream()).train()
    assert res["data"]["speakers"] == 3
    assert res["metrics"]["test"]["accuracy"] > 0.5  # chance 1/3; speaker-disjoint test would score 0


def test_sa_sentences_are_left_out_and_counted(tones, tmp_path, caplog):
    root = write_timit(tones, tmp_path / "timit")
    folder = root / "TRAIN" / "DR1" / "MSPK100"
    soundfile.write(folder / "SA1.WAV", np.zeros(1600, dtype=np.float32), 16000)
    (folder / "SA1.PHN").write_text("0 1600 h#\n")
    with caplog.at_level("INFO"):
        corpus = load_corpus(DataConfig(format="timit", roots=[str(root)]), PHONES)
    assert all("SA1" not in u.uttid for part in corpus.splits.values() for u in part)
    assert "skipped 1 utterance(s): SA sentences" in caplog.text


# .PHN files as TIMIT writes them: "start end phone" in samples, one segment per line; an
# utterance of 2 s (32000 samples) whose labels tile it, apart from what each test changes
TILED_PHN = [(0, 3200, "h#"), (3200, 6400, "sh"), (6400, 9600, "iy"), (9600, 20160, "hv"), (20160, 32000, "h#")]


def _timit_with_phn(root, segments, uttid="SX1", samples=32000):
    folder = root / "TRAIN" / "DR1" / "MJDH0"
    folder.mkdir(parents=True, exist_ok=True)
    wave = 0.1 * np.sin(2 * np.pi * 300 * np.arange(samples) / 16000).astype(np.float32)
    soundfile.write(folder / f"{uttid}.WAV", wave, 16000)
    (folder / f"{uttid}.PHN").write_text("".join(f"{s} {e} {p}\n" for s, e, p in segments))
    return root


def _read_timit(root):
    from aalbert.corpus.registry import read_corpus
    from aalbert.corpus.spec import CorpusSpec

    return read_corpus(CorpusSpec("timit", [str(root)], scan_cache=False))


def test_phn_with_a_gap_in_the_middle_names_the_file_and_the_gap(tmp_path):
    # hv dropped from the file: 9600-20160 is unlabelled, 66 frames that used to take iy's label
    root = _timit_with_phn(tmp_path / "timit", [seg for seg in TILED_PHN if seg[2] != "hv"])
    with pytest.raises(CorpusValidationError) as err:
        _read_timit(root)
    text = str(err.value)
    assert "1 problem(s)" in text and "nothing was trained" in text
    assert "MJDH0/SX1.PHN: gap of 0.660 s (10560 samples, 66 frames)" in text
    assert "'iy' ending at 0.600 s (sample 9600) and 'h#' starting at 1.260 s (sample 20160)" in text


def test_phn_with_overlapping_segments_is_an_error(tmp_path):
    segments = list(TILED_PHN)
    segments[3] = (9000, 20160, "hv")  # starts 600 samples before iy ends
    root = _timit_with_phn(tmp_path / "timit", segments)
    with pytest.raises(CorpusValidationError) as err:
        _read_timit(root)
    assert "SX1.PHN: overlap of 0.037 s (600 samples) between 'iy' ending at 0.600 s (sample 9600)" in str(err.value)


def test_phn_not_starting_at_zero_is_an_error(tmp_path):
    root = _timit_with_phn(tmp_path / "timit", [(2000, 3200, "h#"), *TILED_PHN[1:]])
    with pytest.raises(CorpusValidationError, match=r"SX1.PHN: labels start at 0.125 s \(sample 2000\)"):
        _read_timit(root)


@pytest.mark.parametrize("gap", [100, 160, -160])
def test_phn_gap_or_overlap_of_at_most_one_frame_is_accepted(tmp_path, gap):
    segments = list(TILED_PHN)
    segments[3] = (9600 + gap, 20160, "hv")
    (utt,) = _read_timit(_timit_with_phn(tmp_path / "timit", segments)).utterances
    assert len(utt.phones) == num_frames(32000)
    hv = PHONES_39.index("hh")
    assert utt.phones.index(hv) == -(-(9600 + gap) // 160)


def test_every_bad_phn_of_the_corpus_is_in_one_error(tmp_path):
    root = _timit_with_phn(tmp_path / "timit", [seg for seg in TILED_PHN if seg[2] != "hv"], uttid="SX1")
    _timit_with_phn(root, [(0, 9600, "h#"), (9000, 32000, "h#")], uttid="SX2")
    _timit_with_phn(root, TILED_PHN, uttid="SX3")
    with pytest.raises(CorpusValidationError) as err:
        _read_timit(root)
    assert len(err.value.problems) == 2
    assert "SX1.PHN: gap of" in err.value.problems[0] and "SX2.PHN: overlap of" in err.value.problems[1]


def test_corpus_inspect_reports_the_gap_and_exits_1(tmp_path):
    import subprocess
    import sys

    root = _timit_with_phn(tmp_path / "timit", [seg for seg in TILED_PHN if seg[2] != "hv"])
    proc = subprocess.run(
        [sys.executable, "-m", "aalbert", "corpus", "inspect", "--format", "timit", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stderr
    assert "MJDH0/SX1.PHN: gap of 0.660 s (10560 samples, 66 frames)" in proc.stderr
    assert "Traceback" not in proc.stderr
