"""The same utterances through LibriSpeech, Kaldi and Lhotse layouts give identical training batches."""

import torch
from corpus_layouts import write_kaldi, write_lhotse, write_textgrids
from downstream_fakes import FakeUpstream

from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner


def _batches(tmp_path, name, task, data_overrides):
    cfg = build_config(task, overrides=[*data_overrides, "runner.batch_size=4"], upstream="fake")
    runner = Runner(cfg, tmp_path / name, upstream=FakeUpstream())
    return list(runner.train_loader(epoch=0)), runner.corpus


def _same(a, b):
    assert [x.uttids for x in a] == [y.uttids for y in b]
    for x, y in zip(a, b):
        assert all(torch.equal(w, v) for w, v in zip(x.wavs, y.wavs)) and len(x.wavs) == len(y.wavs)
        assert torch.equal(x.speakers, y.speakers) and x.phones == y.phones


def test_librispeech_kaldi_and_lhotse_give_identical_batches(tone_corpus, tmp_path):
    phones = f"data.phone_list={tone_corpus / 'alignment' / 'phones.txt'}"
    kaldi = write_kaldi(tone_corpus, tmp_path / "kaldi")
    lhotse_dir = write_lhotse(tone_corpus, tmp_path / "lhotse")
    textgrids = write_textgrids(tone_corpus, tmp_path / "tg", stress=True)
    (tmp_path / "up.txt").write_text("0 sil\n1 AA\n2 IY\n3 S\n4 M\n")
    libri, corpus = _batches(tmp_path, "libri", "phone_linear", [f"data.roots=[{tone_corpus}]"])
    runs = {
        "kaldi": _batches(
            tmp_path,
            "kaldi",
            "phone_linear",
            [f"data.roots=[{kaldi}]", "data.format=kaldi", f"data.alignment={tone_corpus / 'alignment'}"],
        ),
        "lhotse": _batches(
            tmp_path, "lhotse", "phone_linear", [f"data.roots=[{lhotse_dir}]", "data.format=lhotse", phones]
        ),
        # MFA-style TextGrids (upper case, stress digits, empty silence) fold to the same phone ids
        "kaldi+textgrid": _batches(
            tmp_path,
            "tg",
            "phone_linear",
            [
                f"data.roots=[{kaldi}]",
                "data.format=kaldi",
                f"data.alignment={textgrids}",
                "data.phone_list=" + str(tmp_path / "up.txt"),
            ],
        ),
    }
    assert sum(len(b.uttids) for b in libri) == len(corpus.splits["train"]) > 0
    for name, (batches, other) in runs.items():
        assert other.phone_names in (corpus.phone_names, [p.upper() if p != "sil" else p for p in corpus.phone_names])
        assert other.skipped == corpus.skipped, name
        _same(libri, batches)
    for split in ("train", "dev", "test"):  # the split written into each experiment folder is the same
        assert (tmp_path / "libri" / "splits" / f"{split}.txt").read_text() == (
            tmp_path / "lhotse" / "splits" / f"{split}.txt"
        ).read_text()
