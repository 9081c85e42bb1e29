import numpy as np
import pytest
import soundfile

from aalbert.downstream.data.timit import (FOLD_61_TO_39, PHONES_39, TimitError, fold_phone, read_phn,
                                           scan_timit, timit_splits)

TIMIT_61 = ("aa ae ah ao aw ax ax-h axr ay b bcl ch d dcl dh dx eh el em en eng epi er ey f g gcl h# hh hv "
            "ih ix iy jh k kcl l m n ng nx ow oy p pau pcl q r s sh t tcl th uh uw ux v w y z zh").split()


def test_lee_hon_folding_gives_39_classes():
    assert len(TIMIT_61) == 61 and len(PHONES_39) == 39
    folded = {fold_phone(p) for p in TIMIT_61} - {None}
    assert folded == set(PHONES_39)
    assert fold_phone("q") is None
    assert {fold_phone(p) for p in ("h#", "pau", "epi", "bcl", "kcl")} == {"sil"}
    assert fold_phone("AX-H") == "ah" and fold_phone("zh") == "sh" and fold_phone("ux") == "uw"
    assert set(FOLD_61_TO_39) < set(TIMIT_61)


def test_unknown_phone_names_the_file(tmp_path):
    f = tmp_path / "SX1.PHN"
    f.write_text("0 800 h#\n800 1600 zz\n")
    with pytest.raises(TimitError, match="SX1.PHN.*'zz'"):
        read_phn(f)


def test_read_phn_labels_frame_centres_and_q_goes_to_neighbour(tmp_path):
    f = tmp_path / "SX1.PHN"
    # 0-400 h#, 400-500 q (removed), 500-900 iy, 900-1120 pcl
    f.write_text("0 400 h#\n400 500 q\n500 900 iy\n900 1120 pcl\n")
    sil, iy = PHONES_39.index("sil"), PHONES_39.index("iy")
    # frames centred at 80, 240, 400, 560, 720, 880, 1040 samples; 400 lies in q -> previous (sil)
    assert read_phn(f) == [sil, sil, sil, iy, iy, iy, sil]


def test_scan_timit_skips_sa_and_splits_by_speaker(tmp_path):
    for part, speakers in (("TRAIN", ["FAAA0", "MBBB0", "MCCC0"]), ("TEST", ["FDDD0"])):
        for spk in speakers:
            d = tmp_path / part / "DR1" / spk
            d.mkdir(parents=True)
            for sent in ("SA1", "SX10", "SI20"):
                soundfile.write(d / f"{sent}.WAV", np.zeros(1120, dtype=np.float32), 16000)
                (d / f"{sent}.PHN").write_text("0 560 h#\n560 1120 aa\n")
    parts = scan_timit(tmp_path)
    assert sorted(u.uttid for u in parts["test"]) == ["FDDD0_SI20", "FDDD0_SX10"]
    assert all(u.phones is not None and len(u.phones) == 7 for u in parts["train"])
    splits = timit_splits(parts, seed=0)
    dev_speakers = {u.split("_")[0] for u in splits["dev"]}
    train_speakers = {u.split("_")[0] for u in splits["train"]}
    assert len(dev_speakers) == 1 and not dev_speakers & train_speakers
    assert len(splits["train"]) == 4 and splits["test"] == ["FDDD0_SI20", "FDDD0_SX10"]


def test_load_corpus_timit_format(tmp_path):
    from aalbert.downstream.config import DataConfig
    from aalbert.downstream.data import load_corpus

    for part, speakers in (("TRAIN", ["FAAA0", "MBBB0"]), ("TEST", ["FDDD0"])):
        for spk in speakers:
            d = tmp_path / part / "DR1" / spk
            d.mkdir(parents=True)
            soundfile.write(d / "SX10.WAV", np.zeros(1120, dtype=np.float32), 16000)
            (d / "SX10.PHN").write_text("0 560 h#\n560 1120 ix\n")
    corpus = load_corpus(DataConfig(format="timit", root=str(tmp_path)), needs_phones=True)
    assert corpus.phone_names == PHONES_39 and corpus.silence_ids == {PHONES_39.index("sil")}
    assert [len(corpus.splits[s]) for s in ("train", "dev", "test")] == [1, 1, 1]
    assert corpus.splits["test"][0].phones[-1] == PHONES_39.index("ih")
