"""asr_ctc (SUPERB ASR: CTC on characters, WER) on a generated LibriSpeech corpus that spells its transcripts.

The corpus (aalbert.testing.make_spelled_corpus) voices every letter as a tone, so a tiny upstream
and the CTC head learn to spell in a few hundred steps; what training must beat is measured here:
the same model untrained (random head: CER about 1, WER 1).
"""

import json
from collections import Counter

import pytest
from downstream_fakes import FakeUpstream

from aalbert.corpus.readers.librispeech import read
from aalbert.corpus.spec import CorpusSpec
from aalbert.downstream.ctc import CTCExpert, TranscriptCTCExpert
from aalbert.downstream.evaluation import evaluate
from aalbert.downstream.experiment_config import build_config
from aalbert.downstream.runner import Runner
from aalbert.testing import make_spelled_corpus, train_task

# what the runs share: the upstream runs once per utterance (frozen), a small head; the rest is asr_ctc's config
SETTINGS = ("runner.feature_cache=memory", "runner.batch_size=8", "model.hidden_layers=1", "model.hidden_size=64")


@pytest.fixture(scope="module")
def spelled(tmp_path_factory):
    """2 speakers x 10 utterances in each of train-clean-100, dev-clean and test-clean."""
    return make_spelled_corpus(tmp_path_factory.mktemp("spelled") / "LibriSpeech", speakers=2, utterances=10)


def test_the_corpus_is_librispeech_and_its_subsets_are_the_partition(spelled):
    trans = sorted(spelled.glob("*/*/*/*.trans.txt"))
    assert [t.relative_to(spelled).parts[0] for t in trans] == ["dev-clean"] * 2 + ["test-clean"] * 2 + [
        "train-clean-100"
    ] * 2
    uttid, *words = trans[0].read_text().splitlines()[0].split()
    assert (trans[0].parent / f"{uttid}.flac").is_file() and words and all(w.isupper() for w in words)
    listing = read(CorpusSpec("librispeech", [str(spelled)], scan_cache=False))
    assert Counter(listing.partition.values()) == {"train": 20, "dev": 20, "test": 20}
    by_id = {u.uttid: u for u in listing.utterances}
    for uttid, part in listing.partition.items():
        assert by_id[uttid].path.relative_to(spelled).parts[0].startswith(part + "-")


def test_no_partition_unless_train_dev_and_test_subsets_are_read(spelled, tmp_path):
    two = read(CorpusSpec("librispeech", [str(spelled)], subsets=["train-clean-100", "test-clean"], scan_cache=False))
    assert len(two.utterances) == 40 and two.partition == {}
    one = read(CorpusSpec("librispeech", [str(spelled / "dev-clean")], scan_cache=False))  # a subset as the root
    assert len(one.utterances) == 20 and one.partition == {}
    other = make_spelled_corpus(
        tmp_path / "c", speakers=1, utterances=2, subsets=("train-clean-360", "dev-other", "test-clean", "test-other")
    )
    listing = read(CorpusSpec("librispeech", [str(other)], scan_cache=False))
    assert Counter(listing.partition.values()) == {"train": 2, "dev": 2, "test": 4}


def test_asr_ctc_learns_to_spell(spelled, tmp_path):
    results = train_task("asr_ctc", spelled, tmp_path / "exp", steps=400, overrides=SETTINGS)
    assert results["main_metric"] == "wer" and results["higher_is_better"] is False
    assert results["data"]["utterances"] == {"train": 20, "dev": 20, "test": 20}
    for split in ("dev_best", "test"):
        assert {"cer", "wer"} <= set(results["metrics"][split])
    # the split is the corpus's subsets: train-clean-100's speakers train, test-clean's test
    config = build_config(
        "asr_ctc",
        overrides=[f"data.roots=[{json.dumps(str(spelled))}]", *SETTINGS, "runner.feature_cache=none"],
        upstream="tiny",
    )
    runner = Runner(config, tmp_path / "untrained", upstream=FakeUpstream())
    for split, subset in (("train", "train-clean-100"), ("dev", "dev-clean"), ("test", "test-clean")):
        assert {u.speaker for u in runner.corpus.splits[split]} == {p.name for p in (spelled / subset).iterdir()}
    words = [u.words or [] for part in runner.corpus.splits.values() for u in part]
    assert runner.model.expert.class_names == sorted({c for w in words for c in "|".join(w)})
    untrained = evaluate(runner.model, runner.loader("test"), "test")
    trained = results["metrics"]["test"]
    # measured: untrained CER 0.94, WER 1.0; trained (400 steps) CER 0.15, WER 0.45
    assert trained["cer"] < untrained["cer"] - 0.5, (trained, untrained)
    assert trained["wer"] < min(untrained["wer"], 1.0) - 0.3, (trained, untrained)


def test_word_ctc_reports_wer(spelled, tmp_path):
    """Words as CTC symbols (-o labels=[sequence.words]), decoded on dev and test by a beam search."""
    overrides = (*SETTINGS, "labels=[sequence.words]", "model.beam_size=3")
    results = train_task("asr_ctc", spelled, tmp_path / "words", steps=60, overrides=overrides)
    assert results["main_metric"] == "wer"
    for split in ("dev_best", "test"):
        assert "wer" in results["metrics"][split] and "cer" not in results["metrics"][split]
    assert 0.0 <= results["metrics"]["test"]["wer"] <= 2.0


def test_the_main_metric_follows_the_label():
    assert TranscriptCTCExpert.main_metric == "wer" and CTCExpert.main_metric == "per"
    assert CTCExpert.metrics({"char_edits": 1, "chars": 4, "word_edits": 1, "words": 2}) == {"cer": 0.25, "wer": 0.5}
    assert CTCExpert.metrics({"word_edits": 3, "words": 4}) == {"wer": 0.75}
    assert CTCExpert.metrics({"edits": 1, "reference_phones": 5}) == {"per": 0.2}
