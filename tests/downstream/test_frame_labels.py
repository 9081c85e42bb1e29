"""Frame labels of your own (frame.NAME): TextGrid tiers, RTTM, s3prl-style files and a task's hook
(cached on disk), framed by the one convention (aalbert.corpus.frames) and checked like phones."""

import json
import os

import pytest
import torch
from corpus_layouts import tone_files, tone_segments
from praatio import textgrid
from praatio.utilities.constants import Interval

from aalbert.audio import load_audio
from aalbert.corpus.frames import num_frames, segment_frame_labels
from aalbert.corpus.problems import Problems
from aalbert.corpus.registry import read_corpus
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data.frame_label_hook import cache_path, energy_vad
from aalbert.downstream.data.frame_labels import attach_frame_labels
from aalbert.downstream.frame_classifier import FrameClassifierExpert
from aalbert.errors import TaskRequirementError
from aalbert.testing import make_tone_corpus, train_task

SR = 16000


@pytest.fixture
def tones(tmp_path):
    return make_tone_corpus(tmp_path / "tones", speakers=2, utterances=3)


def _attach(root, name="vad", hook=None, task="vadtask", **source):
    cfg = DataConfig(format="librispeech", roots=[str(root)], frame_labels={name: source} if source else {})
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems("test")
    names = attach_frame_labels(cfg, listing, name, hook, task, problems)
    return {u.uttid: u for u in listing.utterances}, names, problems.items


def _vad_truth(root):
    """What the tone corpus's phone timing says: speech where a phone sounds, silence elsewhere."""
    truth = {}
    for uttid, segs in tone_segments(root).items():
        n = segs[-1][1]
        truth[uttid] = segment_frame_labels([(s, e, int(p != "sil")) for s, e, p in segs], n, fill=0)
    return truth


def _write_vad_textgrids(root, out, drop=None):
    """UTTID.TextGrid with a phones tier and a "voice" tier: "speech" intervals, silence left empty."""
    for uttid, segs in tone_segments(root).items():
        end = segs[-1][1] / SR
        voice = [Interval(s / SR, e / SR, "speech") for s, e, p in segs if p != "sil"]
        if uttid == drop:  # a hole in the middle of the tier: the second speech interval is gone
            voice = [Interval(s / SR, e / SR, "speech" if p != "sil" else "") for s, e, p in segs]
            del voice[2]
        tg = textgrid.Textgrid()
        tg.addTier(textgrid.IntervalTier("phones", [Interval(s / SR, e / SR, p) for s, e, p in segs], 0, end))
        tg.addTier(textgrid.IntervalTier("voice", voice, 0, end))
        out.mkdir(parents=True, exist_ok=True)
        tg.save(str(out / f"{uttid}.TextGrid"), format="long_textgrid", includeBlankSpaces=uttid != drop)
    return out


def test_a_textgrid_tier_gives_frame_labels_as_the_phones_are_framed(tones, tmp_path):
    grids = _write_vad_textgrids(tones, tmp_path / "grids")
    utts, names, problems = _attach(tones, format="textgrid", path=str(grids), tier="voice", fill="silence")
    assert not problems and names == ["silence", "speech"]
    truth = _vad_truth(tones)
    assert len(utts) == len(truth) == 6
    for uttid, labels in truth.items():
        assert utts[uttid].labels["frame.vad"] == labels  # silence 0, speech 1: the sorted names


def test_a_gap_in_a_tier_beyond_tolerance_is_reported_with_its_file(tones, tmp_path):
    uttid = sorted(tone_segments(tones))[1]
    grids = _write_vad_textgrids(tones, tmp_path / "grids", drop=uttid)
    utts, _, problems = _attach(tones, format="textgrid", path=str(grids), tier="voice")
    assert len(problems) == 1 and str(grids / f"{uttid}.TextGrid") in problems[0]
    assert f"utterance {uttid}: gap of" in problems[0] and "data.label_gap_tolerance_s" in problems[0]
    assert "frame.vad" not in utts[uttid].labels and all("frame.vad" in u.labels for k, u in utts.items() if k != uttid)
    # a tier the files do not have names the setting of this label, not the phones' data.textgrid_tier
    _, _, problems = _attach(tones, format="textgrid", path=str(grids), tier="vad")
    assert len(problems) == 6 and "no 'vad' tier (tiers: phones, voice); set data.frame_labels.vad.tier" in problems[0]


def _rttm_line(file, start, duration, name):
    return f"SPEAKER {file} 1 {start:.4f} {duration:.4f} <NA> <NA> {name} <NA> <NA>\n"


def test_rttm_segments_fill_and_overlap(tones, tmp_path):
    first = sorted(tone_files(tones))[0]
    n = len(load_audio(tone_files(tones)[first]))
    # a boundary between frame centres and one on a centre: frame i takes what covers sample 160 i
    rttm = tmp_path / "who.rttm"
    rttm.write_text(
        ";; a comment and a SPKR-INFO line carry no segment\n"
        f"SPKR-INFO {first} 1 <NA> <NA> <NA> unknown alice <NA> <NA>\n"
        + _rttm_line(first, 248 / SR, (520 - 248) / SR, "alice")  # samples 248..520: frames 2, 3
        + _rttm_line(first, 0.1, 0.3, "alice")  # samples 1600..6400: frames 10..39
        + _rttm_line(first, 0.2, 0.05, "bob")  # inside alice's turn: bob wins frames 20..24, then alice again
    )
    utts, names, problems = _attach(tones, name="who", format="rttm", path=str(rttm))
    assert not problems and names == ["alice", "bob", "none"]
    labels = utts[first].labels["frame.who"]
    assert len(labels) == num_frames(n)
    alice, bob, none = 0, 1, 2
    expected = [none] * num_frames(n)
    for i in [2, 3, *range(10, 40)]:
        expected[i] = alice
    for i in range(20, 25):
        expected[i] = bob
    assert labels == expected
    assert all("frame.who" not in u.labels for k, u in utts.items() if k != first)  # not in the file: unlabelled


def test_a_segment_past_the_audio_is_reported_with_its_file_and_line(tones, tmp_path):
    first = sorted(tone_files(tones))[0]
    n = len(load_audio(tone_files(tones)[first]))
    rttm = tmp_path / "rttm"
    rttm.mkdir()
    (rttm / "a.rttm").write_text(_rttm_line(first, 0.0, 0.1, "speech") + _rttm_line(first, 0.2, n / SR + 1, "speech"))
    utts, _, problems = _attach(tones, format="rttm", path=str(rttm))
    assert len(problems) == 1 and problems[0].startswith(
        f"{rttm / 'a.rttm'}:2: utterance {first}: the 'speech' segment"
    )
    assert "past the end of the audio" in problems[0] and "frame.vad" not in utts[first].labels


def test_rttm_by_recording_labels_each_segment_of_it(tones, tmp_path):
    """A Kaldi corpus cutting one recording in two: RTTM times are the recording's (FILE: its stem)."""
    audio = sorted(tone_files(tones).values())[0]
    n = len(load_audio(audio))
    kaldi = tmp_path / "kaldi"
    kaldi.mkdir()
    (kaldi / "wav.scp").write_text(f"{audio.stem} {audio}\n")
    (kaldi / "segments").write_text(f"a-1 {audio.stem} 0.0 0.4\na-2 {audio.stem} 0.4 {n / SR:.4f}\n")
    (kaldi / "utt2spk").write_text("a-1 a\na-2 a\n")
    rttm = tmp_path / "rec.rttm"
    rttm.write_text(_rttm_line(audio.stem, 0.35, 0.1, "speech"))  # across the cut: 0.35..0.45 s
    cfg = DataConfig(format="kaldi", roots=[str(kaldi)], frame_labels={"vad": {"format": "rttm", "path": str(rttm)}})
    listing = read_corpus(cfg.corpus_spec())
    problems = Problems("test")
    names = attach_frame_labels(cfg, listing, "vad", None, "t", problems)
    utts = {u.uttid: u.labels["frame.vad"] for u in listing.utterances}
    assert not problems.items and names == ["none", "speech"]
    assert [i for i, v in enumerate(utts["a-1"]) if v == 1] == list(range(35, 41))  # 0.35 s to its end (0.4 s)
    assert [i for i, v in enumerate(utts["a-2"]) if v == 1] == list(range(0, 5))  # its start to 0.45 s


def test_an_s3prl_style_file_with_its_class_list(tones, tmp_path):
    truth = _vad_truth(tones)
    ids = {0: 1, 1: 0}  # the file's ids: 0 speech, 1 silence; classes come back sorted
    per_frame = tmp_path / "vad.txt"
    per_frame.write_text("".join(f"{u} {' '.join(str(ids[x]) for x in v)}\n" for u, v in truth.items()))
    (tmp_path / "vad_names.txt").write_text("0 speech\n1 silence\n2 laughter\n")
    utts, names, problems = _attach(tones, format="s3prl", path=str(per_frame), names=str(tmp_path / "vad_names.txt"))
    assert not problems and names == ["laughter", "silence", "speech"]  # every listed class, used or not
    for uttid, labels in truth.items():
        assert utts[uttid].labels["frame.vad"] == [2 if x else 1 for x in labels]
    # labels that do not fit the audio are reported with the file
    uttid = next(iter(truth))
    per_frame.write_text(f"{uttid} {' '.join(['0'] * (len(truth[uttid]) + 5))}\n")
    utts, _, problems = _attach(tones, format="s3prl", path=str(per_frame), names=str(tmp_path / "vad_names.txt"))
    assert len(problems) == 1 and str(per_frame) in problems[0] and f"utterance {uttid}" in problems[0]


CALLS = []


class Vad:
    """A task's expert as far as the hook goes: frame_labels and frame_labels_version."""

    frame_labels_version = 1

    @staticmethod
    def frame_labels(name, wave):
        CALLS.append(name)
        return energy_vad(wave)


def test_the_hook_runs_once_per_utterance_then_comes_from_the_cache(tones):
    CALLS.clear()
    utts, names, problems = _attach(tones, hook=Vad)
    assert not problems and names == ["silence", "speech"] and len(CALLS) == 6
    first = {u: v.labels["frame.vad"] for u, v in utts.items()}
    # the energy detector finds the tone corpus's phones: frames agree with the timing nearly everywhere
    truth = _vad_truth(tones)
    agree = sum(a == b for u in truth for a, b in zip(first[u], truth[u])) / sum(map(len, truth.values()))
    assert agree > 0.9
    again, _, _ = _attach(tones, hook=Vad)
    assert len(CALLS) == 6 and {u: v.labels["frame.vad"] for u, v in again.items()} == first
    assert cache_path("vadtask", "vad", [str(tones)]).is_file()
    _attach(tones, hook=Vad, task="another_task")  # each task keeps its own
    assert len(CALLS) == 12


def test_the_cache_is_left_when_the_audio_or_the_version_changes(tones, monkeypatch):
    CALLS.clear()
    _attach(tones, hook=Vad)
    changed = sorted(tone_files(tones).values())[0]
    wave = load_audio(changed)
    import soundfile

    soundfile.write(changed, (wave * 0.5).numpy(), SR)
    os.utime(changed, ns=(1, 1))  # even with an old date: size or content tell
    _attach(tones, hook=Vad)
    assert len(CALLS) == 7  # only that utterance again
    monkeypatch.setattr(Vad, "frame_labels_version", 2)
    _attach(tones, hook=Vad)
    assert len(CALLS) == 13  # every utterance


def test_a_hook_that_misses_frames_or_takes_self_is_refused(tones, tmp_path):
    class Short:
        @staticmethod
        def frame_labels(name, wave):
            return ["speech"] * 3

    _, _, problems = _attach(tones, hook=Short)
    assert len(problems) == 6 and "Short.frame_labels returned 3 frame labels" in problems[0]
    assert problems[0].startswith(str(sorted(tone_files(tones).values())[0]))

    class Method:
        def frame_labels(self, name, wave):
            return energy_vad(wave)

    with pytest.raises(TaskRequirementError, match="must be a @staticmethod"):
        _attach(tones, hook=Method)
    with pytest.raises(TaskRequirementError, match="set data.frame_labels.vad"):
        _attach(tones, hook=None)


def test_the_cache_file_holds_runs_not_frames(tones):
    _attach(tones, hook=Vad, task="sizes")
    stored = json.loads(cache_path("sizes", "vad", [str(tones)]).read_text())
    runs = [len(e["labels"]) for e in stored["entries"].values()]
    frames = sum(len(v) for v in _vad_truth(tones).values())
    assert len(runs) == 6 and sum(runs) < frames / 5
    assert stored["identity"]["version"] == "1" and stored["identity"]["source_sha256"]


def test_energy_vad_labels_every_frame():
    wave = torch.cat([torch.zeros(8000), torch.sin(torch.arange(8000) * 0.2)]) + 0.001 * torch.randn(16000)
    labels = energy_vad(wave)
    assert len(labels) == num_frames(16000)
    assert set(labels[:48]) == {"silence"} and set(labels[52:]) == {"speech"}


class VadExpert(FrameClassifierExpert):
    """A task predicting voice activity, labels computed by its own hook (the docs' example)."""

    labels = ("frame.vad",)
    frame_labels_version = 1

    @staticmethod
    def frame_labels(name, wave):
        return energy_vad(wave)


def test_a_frame_classifier_learns_labels_its_hook_computes(task_root, tmp_path):
    (task_root / "vad").mkdir(parents=True)
    (task_root / "vad" / "config.yaml").write_text(
        "expert: test_frame_labels:VadExpert\nmodel:\n  hidden_layers: 1\n  hidden_size: 32\n"
    )
    corpus = make_tone_corpus(str(tmp_path / "tones"), speakers=3, utterances=8)
    results = train_task("vad", corpus, tmp_path / "exp", steps=60)
    chance = results["chance"]
    assert chance["label"] == "frame.vad" and chance["unit"] == "10 ms frame" and chance["classes"] == 2
    # silence is a minority here (~2 of 7 segments): always answering speech scores ~0.7
    assert results["metrics"]["test"]["accuracy"] > max(0.85, chance["test"] + 0.1)
    assert cache_path("vad", "vad", [str(corpus)]).is_file()  # the labels were computed once and kept


def test_the_shared_frame_head_learns_labels_from_a_file_named_in_the_config(task_root, tmp_path):
    corpus = make_tone_corpus(tmp_path / "tones", speakers=3, utterances=8)
    truth = _vad_truth(corpus)
    (corpus / "vad.txt").write_text("".join(f"{u} {' '.join(map(str, v))}\n" for u, v in truth.items()))
    (corpus / "vad_names.txt").write_text("0 silence\n1 speech\n")
    (task_root / "vad_files").mkdir(parents=True)
    (task_root / "vad_files" / "config.yaml").write_text(
        "expert: aalbert.downstream.frame_classifier:FrameClassifierExpert\n"
        "labels: [frame.vad]\n"
        "data:\n  frame_labels:\n    vad: {format: s3prl, path: vad.txt, names: vad_names.txt}\n"
        "model:\n  hidden_layers: 1\n  hidden_size: 32\n"
    )
    results = train_task("vad_files", corpus, tmp_path / "exp", steps=60)
    assert results["chance"]["label"] == "frame.vad"
    assert results["metrics"]["test"]["accuracy"] > max(0.85, results["chance"]["test"] + 0.1)
