"""Every audio file is decoded once before the first step; the scan manifest remembers what it showed."""

import json
import logging
import os

import numpy as np
import pytest
import soundfile

import aalbert.corpus.audio_check as audio_check
from aalbert.corpus.problems import CorpusValidationError
from aalbert.corpus.registry import read_corpus
from aalbert.corpus.spec import CorpusSpec
from aalbert.corpus.utterance import load_utterance_audio


def tone(samples: int, seed: int = 0) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(samples)).astype(np.float32)


def libri(root, n: int = 4, samples: int = 3200):
    """``root/7/1/7-1-000i.flac``: n clean files."""
    folder = root / "7" / "1"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        paths.append(folder / f"7-1-{i:04d}.flac")
        soundfile.write(paths[-1], tone(samples, i), 16000)
    return paths


def cut_flac(path, keep: float = 0.5):
    """A real FLAC cut short: its header still declares every sample."""
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


def nan_wav(path, samples: int = 3200, at: int = 1000):
    wave = tone(samples)
    wave[at] = np.nan
    soundfile.write(path, wave, 16000, subtype="FLOAT")


def test_cut_flac_nan_wav_and_cut_wav_are_all_reported_in_one_error(tmp_path):
    paths = libri(tmp_path / "c", n=3, samples=48000)
    cut_flac(paths[0])
    nan_wav(paths[1].with_name("7-1-0007.wav"))
    cut = paths[2].with_name("7-1-0008.wav")
    soundfile.write(cut, tone(48000), 16000)
    cut.write_bytes(cut.read_bytes()[:50000])  # the RIFF data chunk still declares 96000 bytes
    with pytest.raises(CorpusValidationError) as err:
        read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")]))
    text = str(err.value)
    assert "3 problem(s)" in text and "nothing was trained" in text
    assert f"{paths[0]}: truncated or corrupt: decoding failed within samples 0-48000" in text
    assert "the header declares 48000 samples" in text
    assert "7-1-0007.wav: audio holds NaN or infinite samples (the first at sample 1000, 0.06 s)" in text
    assert "7-1-0008.wav: truncated: 24978 samples decoded, the header declares 48000" in text


def test_skip_leaves_bad_files_out_names_them_and_lists_them(tmp_path):
    paths = libri(tmp_path / "c", n=4)
    cut_flac(paths[1])
    with pytest.warns(UserWarning, match=r"skipping .*7-1-0001\.flac: truncated"):
        listing = read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], bad_audio="skip"))
    assert [u.uttid for u in listing.utterances] == ["7-1-0000", "7-1-0002", "7-1-0003"]
    assert len(listing.unusable) == 1 and listing.unusable[0].startswith(f"{paths[1]}: truncated")
    assert listing.unusable_ids == {"7-1-0001"}


def test_second_scan_decodes_nothing_and_a_changed_file_is_decoded_again(tmp_path, monkeypatch):
    paths = libri(tmp_path / "c", n=4)
    spec = CorpusSpec("librispeech", [str(tmp_path / "c")])
    decoded = []
    real = audio_check.decode_file
    monkeypatch.setattr(audio_check, "decode_file", lambda p: decoded.append(p) or real(p))
    read_corpus(spec)
    assert sorted(decoded) == sorted(map(str, paths))

    def refuse(path):
        raise AssertionError(f"decoded {path} again")

    monkeypatch.setattr(audio_check, "decode_file", refuse)
    assert len(read_corpus(spec).utterances) == 4  # every fact from the manifest
    # same size and modification time, other bytes in the last 64 KiB: the key still sees it
    monkeypatch.setattr(audio_check, "decode_file", lambda p: decoded.append(p) or real(p))
    decoded.clear()
    stat = paths[2].stat()
    flipped = bytearray(paths[2].read_bytes())
    flipped[-10] ^= 0xFF
    paths[2].write_bytes(bytes(flipped))
    os.utime(paths[2], ns=(stat.st_atime_ns, stat.st_mtime_ns))
    try:
        read_corpus(spec)
    except CorpusValidationError:
        pass  # a flipped byte may or may not break the FLAC frame; it was decoded again either way
    assert decoded == [str(paths[2])]


def test_without_the_scan_cache_every_file_is_decoded_each_time(tmp_path, monkeypatch):
    libri(tmp_path / "c", n=3)
    decoded = []
    real = audio_check.decode_file
    monkeypatch.setattr(audio_check, "decode_file", lambda p: decoded.append(p) or real(p))
    spec = CorpusSpec("librispeech", [str(tmp_path / "c")], scan_cache=False)
    read_corpus(spec)
    read_corpus(spec)
    assert len(decoded) == 6


def test_a_pool_of_workers_finds_what_one_process_finds(tmp_path, monkeypatch):
    paths = libri(tmp_path / "c", n=audio_check.POOL_FROM + 4, samples=1600)
    cut_flac(paths[3])
    nan_wav(paths[9].with_suffix(".wav"))
    paths[9].unlink()
    found = {}
    for workers in (1, 3):
        with pytest.raises(CorpusValidationError) as err:
            read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], scan_cache=False, audio_check_workers=workers))
        found[workers] = err.value.problems
    assert found[1] == found[3] and len(found[1]) == 2


def stereo(path, samples: int = 3200):
    left = tone(samples)
    soundfile.write(path, np.stack([left, -left], axis=1), 16000)
    return left


def test_stereo_file_is_an_error_naming_file_and_channels_unless_data_channel_says(tmp_path):
    libri(tmp_path / "c", n=2)
    path = tmp_path / "c" / "7" / "1" / "7-1-0005.flac"
    left = stereo(path)
    with pytest.raises(CorpusValidationError, match=rf"{path}: has 2 channels; set data.channel"):
        read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")]))
    listing = read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], channel=0))
    utt = next(u for u in listing.utterances if u.uttid == "7-1-0005")
    assert np.allclose(load_utterance_audio(utt).numpy(), left, atol=1e-4)
    with pytest.raises(CorpusValidationError, match=r"has 2 channel\(s\), data.channel=2 names none of them"):
        read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], channel=2))


def test_nan_in_a_channel_not_used_is_no_problem(tmp_path):
    libri(tmp_path / "c", n=1)
    path = tmp_path / "c" / "7" / "1" / "7-1-0005.wav"
    wave = np.stack([tone(3200), tone(3200, 1)], axis=1)
    wave[5, 1] = np.inf
    soundfile.write(path, wave, 16000, subtype="FLOAT")
    assert len(read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], channel=0)).utterances) == 2
    with pytest.raises(CorpusValidationError, match="first at sample 5"):
        read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")], channel="mean"))


def test_plain_folders_refuse_a_nan_file_and_skip_it_on_request(tmp_path):
    libri(tmp_path / "c", n=2)
    nan_wav(tmp_path / "c" / "bad.wav")
    with pytest.raises(CorpusValidationError, match=r"bad\.wav: audio holds NaN"):
        read_corpus(CorpusSpec("files", [str(tmp_path / "c")]))
    with pytest.warns(UserWarning, match=r"skipping .*bad\.wav"):
        listing = read_corpus(CorpusSpec("files", [str(tmp_path / "c")], bad_audio="skip"))
    assert len(listing.utterances) == 2 and sum(listing.skipped.values()) == 1


def test_kaldi_segment_past_the_decoded_audio_and_skipped_recordings(tmp_path, caplog):
    audio = tmp_path / "audio"
    audio.mkdir()
    soundfile.write(audio / "r1.wav", tone(16000), 16000)
    nan_wav(audio / "r2.wav", samples=16000)
    data = tmp_path / "data"
    data.mkdir()
    (data / "wav.scp").write_text(f"r1 {audio / 'r1.wav'}\nr2 {audio / 'r2.wav'}\n")
    (data / "segments").write_text("u1 r1 0 0.5\nu2 r1 0.5 -1\nu3 r2 0 0.5\n")
    (data / "utt2spk").write_text("u1 s\nu2 s\nu3 s\n")
    with pytest.raises(CorpusValidationError, match=r"r2\.wav: audio holds NaN"):
        read_corpus(CorpusSpec("kaldi", [str(data)]))
    with pytest.warns(UserWarning, match=r"r2\.wav"):
        listing = read_corpus(CorpusSpec("kaldi", [str(data)], bad_audio="skip"))
    assert [u.uttid for u in listing.utterances] == ["u1", "u2"] and listing.unusable_ids == {"u3"}


def test_metadata_lines_for_missing_utterances_are_reported_as_fix_data_dir_does(tmp_path, caplog):
    audio = tmp_path / "audio"
    audio.mkdir()
    data = tmp_path / "data"
    data.mkdir()
    scp, utt2spk, text = [], [], []
    for i in range(3):
        soundfile.write(audio / f"u{i}.wav", tone(1600, i), 16000)
        scp.append(f"u{i} {audio / f'u{i}.wav'}")
    utt2spk = [f"u{i} s{i % 2}" for i in range(5)]  # u3, u4 have no audio
    text = [f"u{i} HELLO" for i in (0, 1, 2, 9)]  # u9 neither
    (data / "wav.scp").write_text("\n".join(scp) + "\n")
    (data / "utt2spk").write_text("\n".join(utt2spk) + "\n")
    (data / "text").write_text("\n".join(text) + "\n")
    (data / "spk2gender").write_text("s0 f\ns1 m\ns7 f\n")
    with caplog.at_level(logging.WARNING):
        listing = read_corpus(CorpusSpec("kaldi", [str(data)]))
    assert len(listing.utterances) == 3
    messages = [r.getMessage() for r in caplog.records]
    assert f"fix_data_dir: {data / 'utt2spk'}: 2 of 5 line(s) name utterances not in wav.scp (e.g. u3, u4); kept 3" in (
        messages
    )
    assert f"fix_data_dir: {data / 'text'}: 1 of 4 line(s) name utterances not in utt2spk (e.g. u9); kept 3" in messages
    assert any(f"{data / 'spk2gender'}: 1 of 3 line(s) name speakers" in m for m in messages)


def test_librispeech_transcript_lines_without_audio_are_reported(tmp_path, caplog):
    libri(tmp_path / "c", n=2)
    trans = tmp_path / "c" / "7" / "1" / "7-1.trans.txt"
    trans.write_text("7-1-0000 A\n7-1-0001 B\n7-1-0002 C\n")
    with caplog.at_level(logging.WARNING):
        listing = read_corpus(CorpusSpec("librispeech", [str(tmp_path / "c")]))
    assert [u.words for u in listing.utterances] == [["A"], ["B"]]
    assert any(f"{trans}: 1 of 3 line(s) name utterances" in r.getMessage() for r in caplog.records)


def test_a_plugin_readers_files_are_decoded_by_read_corpus(tmp_path, monkeypatch):
    import aalbert.corpus.registry as registry
    from aalbert.corpus.utterance import CorpusListing, Utterance

    nan_wav(tmp_path / "a.wav")
    soundfile.write(tmp_path / "b.wav", tone(3200), 16000)

    def plugin(spec):  # a third-party reader that reads headers only
        return CorpusListing(
            "mine", [tmp_path], [Utterance(p, tmp_path / f"{p}.wav", "s", num_samples=3200) for p in ("a", "b")]
        )

    monkeypatch.setattr(registry, "get_reader", lambda name: plugin)
    with pytest.raises(CorpusValidationError, match=r"a\.wav: audio holds NaN"):
        read_corpus(CorpusSpec("mine", [str(tmp_path)]))
    with pytest.warns(UserWarning, match=r"a\.wav"):
        listing = read_corpus(CorpusSpec("mine", [str(tmp_path)], bad_audio="skip"))
    assert [u.uttid for u in listing.utterances] == ["b"] and listing.unusable_ids == {"a"}


def test_corpus_inspect_lists_bad_audio_and_counts_it_with_skip(tmp_path, capsys):
    from aalbert.corpus.__main__ import main

    paths = libri(tmp_path / "c", n=3)
    cut_flac(paths[0])
    stereo(paths[1].with_name("7-1-0009.wav"))
    assert main(["inspect", str(tmp_path / "c")]) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and f"{paths[0]}: truncated" in err and "7-1-0009.wav: has 2 channels" in err
    with pytest.warns(UserWarning):
        assert main(["inspect", str(tmp_path / "c"), "--bad-audio", "skip", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["utterances"] == 2 and len(summary["unusable_audio"]) == 2
    with pytest.warns(UserWarning, match=r"7-1-0000\.flac"):
        assert main(["inspect", str(tmp_path / "c"), "--bad-audio", "skip", "--channel", "0", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["utterances"] == 3  # the stereo file is read now; the cut one is not
