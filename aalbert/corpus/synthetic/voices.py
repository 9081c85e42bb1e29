"""Speaker voices: seeded eSpeak variant parameters, their variant files, and a private data dir.

Each synthetic speaker is an eSpeak *variant* (a small text file in ``voices/!v/``) with its own
vocal-tract scaling, pitch, source model and articulation, plus a speaking rate, a volume and a
recording channel (filter + noise) applied after synthesis. Everything derives from
``(seed, speaker index)``, so a speaker sounds the same in every utterance and every run.
"""

from __future__ import annotations

import os
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from .errors import CorpusError

VARIANT_PREFIX = "aalbert_spk"
BASE_VOICE = "en-us"


@dataclass(frozen=True)
class VoiceParams:
    variant: str  # variant file name, e.g. aalbert_spk007
    sex: str  # "M" or "F" (LibriSpeech's SPEAKERS.TXT column)
    pitch_base: int  # Hz
    pitch_range: int  # eSpeak's pitch range parameter
    formant_scale: int  # % frequency of formants 1-5 (vocal-tract length)
    formant_jitter: tuple[int, ...]  # per-formant % offsets on top of formant_scale (formants 1-5)
    klatt: int  # 0 = eSpeak's default wave generator, 1-4 = Klatt variants
    flutter: int  # pitch jitter
    breath: int  # breath noise (0 = none)
    voicing: int  # % voiced amplitude
    consonants: int  # % consonant amplitude
    rate: int  # words per minute
    volume: int  # eSpeak volume (Klatt clips at 100)
    highpass_hz: float  # channel: 2nd-order high-pass cutoff
    lowpass_hz: float  # channel: 4th-order low-pass cutoff
    noise_db: float  # channel: noise level relative to the utterance RMS (dB, negative)
    gain: float  # channel: output peak target (linear)

    @property
    def voice_name(self) -> str:
        return f"{BASE_VOICE}+{self.variant}"

    def to_dict(self) -> dict:
        return asdict(self)


def sample_voice(seed: int, index: int) -> VoiceParams:
    """Voice of speaker ``index`` (0-based) under ``seed``: alternating sex, the rest seeded."""
    rng = random.Random(f"aalbert-voice:{seed}:{index}")
    sex = "F" if index % 2 else "M"
    female = sex == "F"
    klatt = rng.choice((0, 0, 1, 2, 3, 4))  # half the speakers on the default generator
    return VoiceParams(
        variant=f"{VARIANT_PREFIX}{index:03d}",
        sex=sex,
        pitch_base=rng.randint(150, 230) if female else rng.randint(70, 125),
        pitch_range=rng.randint(90, 220) if female else rng.randint(60, 150),
        formant_scale=rng.randint(108, 124) if female else rng.randint(88, 104),
        formant_jitter=tuple(rng.randint(-5, 5) for _ in range(5)),
        klatt=klatt,
        flutter=rng.randint(0, 30),
        breath=rng.choice((0, 0, rng.randint(10, 40))),
        voicing=rng.randint(85, 110),
        consonants=rng.randint(80, 120),
        rate=rng.randint(135, 195),
        # Klatt generators clip at eSpeak's default volume 100
        volume=rng.randint(45, 60) if klatt else rng.randint(75, 95),
        highpass_hz=rng.uniform(50.0, 180.0),
        lowpass_hz=rng.uniform(4800.0, 7600.0),
        noise_db=rng.uniform(-45.0, -30.0),
        gain=rng.uniform(0.3, 0.8),
    )


def variant_text(voice: VoiceParams) -> str:
    """The eSpeak variant file for ``voice`` (syntax of espeak-ng-data/voices/!v/*)."""
    lines = [
        "language variant",
        f"name {voice.variant}",
        f"gender {'female' if voice.sex == 'F' else 'male'}",
        "",
        f"pitch {voice.pitch_base} {voice.pitch_base + voice.pitch_range}",
        f"flutter {voice.flutter}",
    ]
    for n, jitter in enumerate(voice.formant_jitter, start=1):
        # formant N <frequency %> <strength %> <width %>
        lines.append(f"formant {n} {voice.formant_scale + jitter} 100 100")
    lines += [f"voicing {voice.voicing}", f"consonants {voice.consonants}"]
    if voice.breath:
        lines.append(f"breath {voice.breath} {voice.breath} {voice.breath // 2} {voice.breath // 2}")
    if voice.klatt:
        lines.append(f"klatt {voice.klatt}")
    return "\n".join(lines) + "\n"


def build_data_dir(system_data: Path, target: Path, voices: list[VoiceParams]) -> Path:
    """A private espeak-ng-data at ``target``: links to the system data plus our variant files.

    The system data is linked, not copied (it is ~20 MB); ``voices/!v`` is a real folder that
    holds only our variant files.
    """
    target.mkdir(parents=True)
    for entry in sorted(system_data.iterdir()):
        if entry.name != "voices":
            os.symlink(entry, target / entry.name)
    # Only our own variants go in voices/: eSpeak lists every voice file when selecting one and
    # stops at 349 (warning on stderr), so the system's ~100 variants and mbrola voices stay out.
    variants = target / "voices" / "!v"
    variants.mkdir(parents=True)
    for voice in voices:
        (variants / voice.variant).write_text(variant_text(voice), encoding="utf-8")
    return target


def check_variant(data_dir: Path, voice: VoiceParams) -> None:
    """eSpeak silently falls back to the plain voice for an unknown variant: fail loudly instead."""
    path = data_dir / "voices" / "!v" / voice.variant
    if not path.is_file():
        raise CorpusError(f"voice variant file missing: {path} (speaker {voice.variant})")
