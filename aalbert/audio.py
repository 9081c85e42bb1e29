"""Reading audio files and checking waveforms handed to an upstream.

One place for the checks every entry point needs, so a corrupt file or a bad tensor gives
the same clear error (naming the file or the wave and the problem) wherever it shows up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile
import torch

from aalbert.audio_rate import SAMPLE_RATE
from aalbert.errors import AalbertError, MissingFileError

AUDIO_SUFFIXES = (".flac", ".wav")
_EDGE = 64 * 1024  # bytes hashed at each end of an audio file (audio_file_key)
# which wave of a multi-channel file to use (data.channel): None = the file must be mono
Channel = Literal["mean"] | int | None


class AudioError(AalbertError):
    """An audio file that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | Path, problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{path}: {problem}")


def load_audio(
    path: str | Path, sample_rate: int = SAMPLE_RATE, start: int = 0, frames: int | None = None, channel: Channel = None
) -> torch.Tensor:
    """Read a mono wave as float32 in [-1, 1]; ``AudioError`` if unreadable, empty or off-rate.

    ``start`` / ``frames`` read a segment (Kaldi ``segments``, Lhotse cuts) without decoding the
    rest of the recording; a segment running past the end of the file is an error. A file with
    several channels is an error unless ``channel`` says which wave to use (``data.channel``):
    ``"mean"`` (their average) or a channel index.
    """
    try:
        data, file_rate = soundfile.read(
            str(path), dtype="float32", always_2d=True, start=start, frames=-1 if frames is None else frames
        )
    except (RuntimeError, soundfile.LibsndfileError, OSError) as err:
        raise AudioError(path, f"cannot read audio ({err})") from err
    if file_rate != sample_rate:
        raise AudioError(path, f"sample rate is {file_rate} Hz, expected {sample_rate} Hz (resample it first)")
    if frames is not None and data.shape[0] < frames:
        raise AudioError(
            path,
            f"segment of {frames} samples from sample {start} runs past the end of the file "
            f"({start + data.shape[0]} samples)",
        )
    if data.shape[0] == 0:
        raise AudioError(
            path, "audio file is empty (0 samples)" if not start else f"segment starting at sample {start} is empty"
        )
    wave = pick_channel(data, channel, path)
    if not np.isfinite(wave).all():
        raise AudioError(path, "audio holds NaN or infinite samples")
    return torch.from_numpy(np.ascontiguousarray(wave))


def channel_problem(channels: int, channel: Channel) -> str | None:
    """Why a file of ``channels`` channels cannot be read with ``channel``, or None if it can."""
    if channel is None and channels > 1:
        # averaging silently would turn left = -right into silence: the user says what to do
        return (
            f"has {channels} channels; set data.channel to mean (their average) or a channel index "
            f"(0-{channels - 1}) to say which wave to use"
        )
    if isinstance(channel, int) and not 0 <= channel < channels:
        return f"has {channels} channel(s), data.channel={channel} names none of them"
    return None


def pick_channel(data: np.ndarray, channel: Channel, path: str | Path) -> np.ndarray:
    """The wave of ``data`` (samples, channels) that ``channel`` names; ``AudioError`` if none."""
    problem = channel_problem(data.shape[1], channel)
    if problem is not None:
        raise AudioError(path, problem)
    if data.shape[1] == 1:
        return data[:, 0]
    return data.mean(axis=1) if channel == "mean" else data[:, channel]


def audio_file_key(path: str | Path) -> dict:
    """What identifies an audio file's content without reading all of it: its resolved path,
    size, modification time and a sha256 of its first and last 64 KiB. The feature cache and
    the corpus scan (aalbert.corpus.scan_cache) both compare it; a change in the middle of a
    file that keeps its size and modification time is not seen."""
    path = Path(path).resolve()
    stat = path.stat()
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        digest.update(f.read(_EDGE))
        if stat.st_size > 2 * _EDGE:
            f.seek(-_EDGE, 2)
        digest.update(f.read(_EDGE))
    return {"path": str(path), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "edges_sha256": digest.hexdigest()}


def audio_info(path: str | Path) -> tuple[int, int]:
    """(number of samples, sample rate) from the file header, without decoding."""
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError, OSError) as err:
        raise AudioError(path, f"cannot read audio header ({err})") from err
    return info.frames, info.samplerate


def find_audio_files(roots: str | Path | Iterable[str | Path]) -> list[Path]:
    """All .flac/.wav files under the given roots (recursively), or listed in a ``.txt`` file list.

    A root may be a directory, a single audio file, or a text file with one path per line
    (relative paths resolved against the list's folder). The result is sorted and unique.
    """
    if isinstance(roots, (str, Path)):
        roots = [roots]
    found: set[Path] = set()
    for root in roots:
        root = Path(root)
        if root.is_dir():
            found.update(p for p in root.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
        elif root.is_file() and root.suffix.lower() in AUDIO_SUFFIXES:
            found.add(root)
        elif root.is_file():
            for line in root.read_text(encoding="utf-8").splitlines():
                line = line.strip().split()[0] if line.strip() else ""
                if line and not line.startswith("#"):
                    p = Path(line)
                    found.add(p if p.is_absolute() else root.parent / p)
        else:
            raise MissingFileError(f"audio root not found: {root}")
    return sorted(found)


def check_waves(wavs: Sequence[torch.Tensor], min_samples: int = 1) -> None:
    """Raise ``ValueError`` naming the wave and the problem if ``wavs`` is not a usable batch."""
    if isinstance(wavs, torch.Tensor):
        raise ValueError(
            "expected a list of 1-D waveforms (one tensor per utterance), got a single tensor; "
            "pass list(batch) for a padded batch"
        )
    if len(wavs) == 0:
        raise ValueError("expected a non-empty list of waveforms, got an empty list")
    for i, wav in enumerate(wavs):
        if not isinstance(wav, torch.Tensor):
            raise ValueError(f"wave {i}: expected a torch.Tensor, got {type(wav).__name__}")
        if wav.dim() != 1:
            raise ValueError(f"wave {i}: expected a 1-D waveform (samples,), got shape {tuple(wav.shape)}")
        if not wav.is_floating_point():
            raise ValueError(f"wave {i}: expected a floating-point waveform in [-1, 1], got dtype {wav.dtype}")
        if wav.numel() == 0:
            raise ValueError(f"wave {i}: waveform is empty (0 samples)")
        if wav.numel() < min_samples:
            raise ValueError(f"wave {i}: {wav.numel()} samples is shorter than one frame ({min_samples} samples)")
        if not torch.isfinite(wav).all():
            raise ValueError(f"wave {i}: waveform holds NaN or infinite values")
