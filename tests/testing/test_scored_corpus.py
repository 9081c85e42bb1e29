"""aalbert.testing.make_scored_corpus: its values are what the audio says, in both layouts its readers read."""

import json

import numpy as np
import pytest
import soundfile

from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.errors import BadInputError
from aalbert.testing import SR, make_scored_corpus
from aalbert.testing.scored_corpus import voice_tone


def _peaks(wave):
    """The two strongest tones of a wave (Hz), lowest first."""
    spectrum = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    freqs = np.fft.rfftfreq(len(wave), 1 / SR)
    first = int(spectrum.argmax())
    spectrum[max(0, first - 20) : first + 20] = 0
    return sorted([freqs[first], freqs[int(spectrum.argmax())]])


@pytest.mark.parametrize("layout", ["librispeech", "kaldi"])
def test_values_are_functions_of_the_audio_and_the_readers_read_the_layout(tmp_path, layout):
    roots = make_scored_corpus(str(tmp_path / "c"), layout=layout, speakers=3, utterances=4)  # a str path too
    assert roots == (tmp_path / "c" if layout == "librispeech" else tmp_path / "c" / "data")
    listing = read_corpus(CorpusSpec(layout, roots=[str(roots)], scan_cache=False))
    written = json.loads((tmp_path / "c" / "scores.json").read_text())
    assert sorted(u.uttid for u in listing.utterances) == sorted(written["utterances"])
    levels = {}
    for utt in listing.utterances:
        wave, rate = soundfile.read(utt.path)
        values = written["utterances"][utt.uttid]
        pitch, voice = _peaks(wave)
        assert rate == SR and abs(pitch - values["pitch"]) < 3
        assert abs(voice - voice_tone(written["speakers"]["age"][utt.speaker])) < 3
        # the level without the gain is the same for every utterance (two tones and a little noise)
        levels[utt.uttid] = 20 * np.log10(np.sqrt(np.mean(wave**2))) - values["loudness"]
    assert np.ptp(list(levels.values())) < 0.5
    assert len({v["loudness"] for v in written["utterances"].values()}) == 12  # all different


def test_both_layouts_write_the_same_values_and_kaldi_files(tmp_path):
    make_scored_corpus(tmp_path / "l", speakers=2, utterances=3, seed=5)
    make_scored_corpus(tmp_path / "k", layout="kaldi", speakers=2, utterances=3, seed=5)
    assert (tmp_path / "l" / "scores.json").read_text() == (tmp_path / "k" / "scores.json").read_text()
    data = tmp_path / "k" / "data"
    names = {"wav.scp", "utt2spk", "spk2utt", "spk2gender", "utt2loudness", "utt2pitch", "spk2age", "text"}
    assert names <= {p.name for p in data.iterdir()}
    assert (data / "wav.scp").read_text().split("\n")[0] == "200-7-0000 audio/200/200-7-0000.flac"
    assert (tmp_path / "l" / "scores.csv").read_text().startswith("uttid,loudness,pitch\n200-7-0000,")
    with pytest.raises(BadInputError, match="layout must be one of librispeech, kaldi"):
        make_scored_corpus(tmp_path / "x", layout="timit")
