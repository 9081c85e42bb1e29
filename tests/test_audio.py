import numpy as np
import pytest
import soundfile
import torch

from aalbert.audio import AudioError, check_waves, find_audio_files, load_audio


def test_load_audio_roundtrip_and_errors(tmp_path):
    wave = (0.1 * np.sin(np.arange(1600) / 5)).astype("float32")
    good = tmp_path / "a" / "good.flac"
    good.parent.mkdir()
    soundfile.write(good, wave, 16000)
    assert torch.allclose(load_audio(good), torch.from_numpy(wave), atol=1e-4)

    corrupt = tmp_path / "a" / "corrupt.flac"
    corrupt.write_bytes(b"not audio at all")
    with pytest.raises(AudioError, match="corrupt.flac: cannot read audio"):
        load_audio(corrupt)

    off_rate = tmp_path / "off.wav"
    soundfile.write(off_rate, wave, 8000)
    with pytest.raises(AudioError, match="off.wav: sample rate is 8000 Hz"):
        load_audio(off_rate)

    empty = tmp_path / "empty.wav"
    soundfile.write(empty, np.zeros(0, "float32"), 16000)
    with pytest.raises(AudioError, match="empty"):
        load_audio(empty)

    assert find_audio_files(tmp_path) == sorted([good, corrupt, off_rate, empty])
    listing = tmp_path / "list.txt"
    listing.write_text("a/good.flac\n# comment\n")
    assert find_audio_files(listing) == [good]


@pytest.mark.parametrize(
    "wavs, message",
    [
        ([], "empty list"),
        ([torch.zeros(2, 400)], "1-D"),
        ([torch.zeros(400, dtype=torch.int16)], "floating-point"),
        ([torch.zeros(0)], "0 samples"),
        ([torch.zeros(100)], "shorter than one frame"),
        ([torch.tensor([0.0] * 399 + [float("nan")])], "NaN"),
    ],
)
def test_check_waves_rejects_bad_batches(wavs, message):
    with pytest.raises(ValueError, match=message):
        check_waves(wavs, min_samples=400)


def test_several_channels_are_an_error_unless_channel_says_which(tmp_path):
    left = (0.1 * np.sin(np.arange(1600) / 5)).astype("float32")
    path = tmp_path / "stereo.wav"
    soundfile.write(path, np.stack([left, -left], axis=1), 16000, subtype="FLOAT")
    # averaged silently, left = -right would be silence
    with pytest.raises(AudioError, match=r"stereo.wav: has 2 channels; set data.channel to mean .* \(0-1\)"):
        load_audio(path)
    assert torch.equal(load_audio(path, channel=0), torch.from_numpy(left))
    assert torch.equal(load_audio(path, channel=1), torch.from_numpy(-left))
    assert torch.equal(load_audio(path, channel="mean"), torch.zeros(1600))
    assert torch.equal(load_audio(path, start=100, frames=50, channel=0), torch.from_numpy(left[100:150]))
    with pytest.raises(AudioError, match=r"data.channel=2 names none of them"):
        load_audio(path, channel=2)
    mono = tmp_path / "mono.wav"
    soundfile.write(mono, left, 16000, subtype="FLOAT")
    assert torch.equal(load_audio(mono, channel=0), load_audio(mono))
