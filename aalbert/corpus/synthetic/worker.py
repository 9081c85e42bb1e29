"""Synthesizing one utterance in a worker process: eSpeak -> segments -> 16 kHz FLAC + frame labels.

eSpeak holds global state, so each worker process initialises its own engine once (``init``).
Jobs carry everything random (text, pads, noise seed); eSpeak's own state still carries from one
utterance to the next, so a process runs exactly one speaker's jobs in order (``run_speaker``,
see ``synth._run_jobs``).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import soundfile
from scipy.signal import resample_poly

from aalbert.audio_rate import SAMPLE_RATE

from .align import Segment, frame_phone_ids, rescale, segments_from_events
from .channel import apply_channel, to_int16
from .errors import CorpusError
from .espeak import Espeak
from .phones import SILENCE
from .voices import VoiceParams

UP, DOWN = 320, 441  # 22050 Hz * 320 / 441 = 16000 Hz


@dataclass(frozen=True)
class Job:
    uttid: str
    text: str
    voice: VoiceParams
    path: str  # where to write the FLAC
    noise_seed: int  # seeds eSpeak's own noise (libc rand) and the channel noise
    lead: int  # samples of silence before the speech (at eSpeak's rate)
    trail: int  # and after it


@dataclass(frozen=True)
class Result:
    uttid: str
    labels: list[int]  # one phone id per 10 ms frame
    num_samples: int  # at 16 kHz
    num_segments: int  # phone segments, silence excluded
    phone_counts: dict[str, int]


_engine: Espeak | None = None


def init(data_dir: str) -> None:
    global _engine
    _engine = Espeak(data_dir)
    if _engine.sample_rate * UP // DOWN != SAMPLE_RATE or _engine.sample_rate * UP % DOWN:
        raise CorpusError(f"eSpeak runs at {_engine.sample_rate} Hz; the resampler expects 22050 Hz")


def run(job: Job) -> Result:
    if _engine is None:
        raise CorpusError("worker not initialised: call aalbert.corpus.synthetic.worker.init(data_dir) first")
    try:
        return _run(_engine, job)
    except CorpusError as err:
        raise CorpusError(f"utterance {job.uttid} ({job.text!r}): {err}") from err


def run_speaker(jobs: list[Job]) -> list[Result]:
    """One speaker's utterances, in order (see synth._run_jobs for why per speaker)."""
    return [run(job) for job in jobs]


def _run(engine: Espeak, job: Job) -> Result:
    engine.set_voice(job.voice.voice_name, job.voice.rate, job.voice.volume)
    synthesis = engine.synth(job.text, job.noise_seed)
    raw, events = synthesis.samples, synthesis.events
    if not events:
        raise CorpusError("eSpeak reported no phoneme events")
    segs = segments_from_events(events, raw, context=f"utterance {job.uttid}")
    # LibriSpeech-like leading/trailing silence; the segments shift with the audio
    padded = np.concatenate([np.zeros(job.lead), raw.astype(np.float64) / 32768.0, np.zeros(job.trail)])
    segs = (
        [Segment(0, job.lead, SILENCE)]
        + [Segment(s.start + job.lead, s.end + job.lead, s.phone) for s in segs]
        + [Segment(len(padded) - job.trail, len(padded), SILENCE)]
    )
    wave = resample_poly(padded, UP, DOWN)
    segs16 = rescale(segs, UP, DOWN, len(wave))
    wave = apply_channel(wave, job.voice, np.random.default_rng(job.noise_seed), SAMPLE_RATE)
    pcm = to_int16(wave)
    soundfile.write(job.path, pcm, SAMPLE_RATE, format="FLAC", subtype="PCM_16")
    speech = [s.phone for s in segs16 if s.phone != SILENCE]
    return Result(job.uttid, frame_phone_ids(segs16, len(pcm)), len(pcm), len(speech), dict(Counter(speech)))
