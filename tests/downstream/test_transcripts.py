"""phone_ctc from phone transcripts alone: a phone-sequence file, or Kaldi text + lexicon."""

import shutil

import pytest
from corpus_layouts import tone_segments, write_kaldi
from downstream_fakes import FakeUpstream
from tone_corpus import make_tone_corpus

from aalbert.corpus.problems import CorpusValidationError
from aalbert.downstream.config import DataConfig
from aalbert.downstream.data import TaskData, load_corpus
from aalbert.downstream.data.phone_names import fold_phone_marks
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner

CTC = TaskData("sequence", "disjoint_speakers")


def test_stress_and_position_marks_fold_to_base_phones():
    assert [fold_phone_marks(p) for p in ("AH0", "AH1", "T_B", "AH0_E", "IY2_S", "sil", "SIL_B", "B")] == [
        "AH",
        "AH",
        "T",
        "AH",
        "IY",
        "sil",
        "SIL",
        "B",
    ]


def _sequences(root):
    return {u: [p for _, _, p in segs if p != "sil"] for u, segs in tone_segments(root).items()}


def test_phone_ctc_trains_from_phone_transcripts_without_alignments(tmp_path):
    root = make_tone_corpus(tmp_path / "c", speakers=3, utterances=10)
    shutil.rmtree(root / "alignment")
    lines = [f"{u} " + " ".join(p.upper() + "1" for p in seq) for u, seq in _sequences(root).items()]
    (root / "phones.tra").write_text("\n".join(lines) + "\n")
    cfg = build_config(
        "phone_ctc",
        overrides=[
            f"data.roots=[{root}]",
            "data.transcripts=phones.tra",
            "runner.total_steps=150",
            "runner.eval_step=150",
            "runner.log_step=50",
            "runner.feature_cache=memory",
            "optimizer.lr=0.01",
            "model.hidden_layers=1",
            "model.hidden_size=64",
        ],
        upstream="fake",
    )
    res = Runner(cfg, tmp_path / "exp", upstream=FakeUpstream()).train()
    assert res["data"]["phones"] == 5  # sil + AA IY S M (stress digits folded)
    assert res["metrics"]["test"]["per"] < 0.7  # emitting only blanks scores 1.0


def test_words_and_lexicon_give_phone_sequences_and_list_every_oov_word(tmp_path):
    root = make_tone_corpus(tmp_path / "c", speakers=3, utterances=3)
    words = {u: " ".join(f"W{p.upper()}" for p in seq) for u, seq in _sequences(root).items()}
    kaldi = write_kaldi(root, tmp_path / "kaldi", uttids=sorted(words), text=words)
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("WAA AA1_S\nWAA AE1_S\nWIY IY0_S\nWS 1.0 S_S\nWM M_B\n")  # second WAA pron. ignored
    corpus = load_corpus(DataConfig(format="kaldi", roots=[str(kaldi)], lexicon=str(lexicon)), CTC)
    assert corpus.phone_names == ["sil", "AA", "IY", "M", "S"]
    for utt in (u for part in corpus.splits.values() for u in part):
        assert [corpus.phone_names[i].lower() for i in utt.phone_sequence] == _sequences(root)[utt.uttid]
    lexicon.write_text("WAA AA\n")
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(format="kaldi", roots=[str(kaldi)], lexicon=str(lexicon)), CTC)
    assert "1 problem(s)" in str(err.value) and "3 word(s)" in str(err.value)
    assert all(w in str(err.value) for w in ("WIY", "WS", "WM"))


def test_empty_or_unknown_transcripts_are_reported_together(tmp_path):
    root = make_tone_corpus(tmp_path / "c", speakers=3, utterances=3)
    (root / "phones.tra").write_text("100-7-0000\n100-7-0001 AA ZZ\n")
    (root / "list.txt").write_text("0 sil\n1 AA\n")
    with pytest.raises(CorpusValidationError) as err:
        load_corpus(DataConfig(roots=[str(root)], transcripts="phones.tra", phone_list="list.txt"), CTC)
    text = str(err.value)
    assert "phones.tra:1: utterance 100-7-0000 has an empty phone transcript" in text
    assert "utterance 100-7-0001: phone(s) ZZ not in the phone list" in text
