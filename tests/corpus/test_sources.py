"""Entries of pretraining's data.roots and attention's --data: which specs, in which order."""

import numpy as np
import soundfile

from aalbert.corpus.sources import read_source, source_specs, utterances_from_sources
from aalbert.corpus.spec import CorpusConfig
from aalbert.downstream.config import DataConfig
from aalbert.pretrain.config import PretrainDataConfig


def test_corpus_entries_in_order_then_the_plain_ones_together(tmp_path):
    specs = source_specs(["b", "kaldi:data/train", "a", "timit:/T"])
    assert [(s.format, s.roots) for s in specs] == [("kaldi", ["data/train"]), ("timit", ["/T"]), ("files", ["b", "a"])]
    assert source_specs([]) == []


def test_the_options_reach_every_spec_and_name_the_plain_entries_format():
    options = CorpusConfig(
        "librispeech", subsets=["train-clean-100"], wav_root="/w", scan_cache=False, bad_audio="skip", channel=1
    )
    specs = source_specs(["/LS", "kaldi:k"], options)
    assert [(s.format, s.roots) for s in specs] == [("kaldi", ["k"]), ("librispeech", ["/LS"])]
    assert all(s.subsets == ["train-clean-100"] and s.wav_root == "/w" and not s.scan_cache for s in specs)
    assert all(s.bad_audio == "skip" and s.channel == 1 for s in specs)


def test_pretraining_and_downstream_share_the_corpus_keys():
    shared = {
        "format",
        "subsets",
        "wav_root",
        "timit_phone_set",
        "label_tolerance_s",
        "label_gap_tolerance_s",
        "scan_cache",
        "bad_audio",
        "channel",
        "audio_check_workers",
    }
    for section in (PretrainDataConfig, DataConfig):
        assert issubclass(section, CorpusConfig) and shared | {"roots"} <= set(section.__dataclass_fields__)
    assert PretrainDataConfig(roots=["kaldi:k"], wav_root="/w").corpus_specs()[0].wav_root == "/w"
    assert DataConfig(format="kaldi", roots=["k", "t"], wav_root="/w").corpus_spec() == CorpusConfig(
        "kaldi", wav_root="/w"
    ).spec(["k", "t"])


def test_plain_files_keep_path_order_corpora_go_by_id(tmp_path):
    for name in ("plain/a/z", "plain/b/y", "kaldi/rec_b", "kaldi/rec_a"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(tmp_path / f"{name}.wav", np.zeros(800, dtype=np.float32), 16000)
    kaldi = tmp_path / "kaldi"
    (kaldi / "wav.scp").write_text(f"b {kaldi / 'rec_b.wav'}\na {kaldi / 'rec_a.wav'}\n")  # not in id order
    (kaldi / "utt2spk").write_text("b s\na s\n")
    entries = [str(tmp_path / "plain"), f"kaldi:{kaldi}"]
    files, corpus = source_specs(entries)[::-1]
    assert [u.uttid for u in read_source(files).utterances] == ["z", "y"]
    assert [u.uttid for u in read_source(corpus).utterances] == ["a", "b"]
    quick = utterances_from_sources(entries)
    assert [u.uttid for u in quick] == ["a", "b", "z", "y"]
    assert quick[2].num_samples is None  # plain files: no header read for a quick look
