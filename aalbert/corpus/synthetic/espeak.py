"""A minimal ctypes binding to eSpeak NG (``libespeak-ng.so.1``): text -> audio + phone events.

Determinism (measured with eSpeak NG 1.51): an utterance's samples depend on what the process
synthesized before it (same voice, text and libc seed gave 31903, 31898, 31908 and 31898 samples
on four calls in one process; a fresh process reproduces its first call exactly), and
``espeak_Terminate`` + ``espeak_Initialize`` does not reset that state. Bit-identical corpora
therefore need a fixed history per process (the corpus runs each speaker in a fresh process).
libc ``srand`` is reseeded per utterance as well, for the breath/Klatt noise that calls ``rand()``.

Only what the corpus needs: initialise with a private data folder (so our own voice variants
are found), pick a voice, set rate/volume, and synthesize one utterance synchronously,
collecting the 22050 Hz samples and the phoneme events (name + start sample).

eSpeak keeps global state and is not thread-safe: use one ``Espeak`` per process.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sysconfig
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import CorpusError

LIBRARY_NAME = "libespeak-ng.so.1"
INSTALL_HINT = "install the Debian package espeak-ng (apt-get install espeak-ng)"

# constants from speak_lib.h
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000  # without it, a data error calls exit() in our process
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_EVENT_LIST_TERMINATED = 0
_EVENT_PHONEME = 7
_PARAM_RATE = 1
_PARAM_VOLUME = 2
_EE_OK = 0


@dataclass(frozen=True)
class PhonemeEvent:
    sample: int  # start of the phoneme, in samples of the returned audio
    name: str  # eSpeak's phoneme mnemonic, e.g. "aI", "_:", "t"


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


def _dlopen(name: str) -> ctypes.CDLL:
    # a seam for tests: they replace it to simulate a machine without espeak-ng
    return ctypes.CDLL(name)


def load_library() -> ctypes.CDLL:
    """The eSpeak NG shared library, or ``CorpusError`` saying how to install it."""
    try:
        return _dlopen(LIBRARY_NAME)
    except OSError as err:
        raise CorpusError(f"{LIBRARY_NAME} not found: {INSTALL_HINT} ({err})") from err


def library_version() -> str:
    """eSpeak NG's version string (``espeak_Info`` needs no initialised engine)."""
    lib = load_library()
    lib.espeak_Info.argtypes = [ctypes.POINTER(ctypes.c_char_p)]
    lib.espeak_Info.restype = ctypes.c_char_p
    return lib.espeak_Info(None).decode()


def system_data_dir() -> Path:
    """The installed ``espeak-ng-data`` folder (``$ESPEAK_DATA_PATH`` first, then usual places)."""
    candidates = []
    if os.environ.get("ESPEAK_DATA_PATH"):
        env = Path(os.environ["ESPEAK_DATA_PATH"])
        candidates += [env / "espeak-ng-data", env]
    multiarch = sysconfig.get_config_var("MULTIARCH") or "x86_64-linux-gnu"
    candidates += [
        Path(f"/usr/lib/{multiarch}/espeak-ng-data"),
        Path("/usr/lib/espeak-ng-data"),
        Path("/usr/share/espeak-ng-data"),
        Path("/usr/local/share/espeak-ng-data"),
        Path("/usr/local/lib/espeak-ng-data"),
    ]
    for cand in candidates:
        if (cand / "phontab").is_file():
            return cand
    raise CorpusError(
        "espeak-ng-data not found (looked in "
        f"{', '.join(map(str, candidates))}); {INSTALL_HINT} or set ESPEAK_DATA_PATH"
    )


@dataclass
class Synthesis:
    """One synthesized utterance at ``sample_rate``: int16 samples and (start sample, phone) events."""

    samples: np.ndarray  # int16
    events: list[PhonemeEvent]  # sorted by start sample
    sample_rate: int


class Espeak:
    """One initialised eSpeak NG engine reading voices from ``data_dir`` (an espeak-ng-data folder)."""

    def __init__(self, data_dir: str | Path):
        self.data_dir = Path(data_dir)
        self.lib = load_library()
        lib = self.lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_void_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int

        rate = lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS,
            0,
            str(self.data_dir).encode(),
            _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT,
        )
        if rate <= 0:
            raise CorpusError(f"espeak_Initialize failed with data folder {self.data_dir} (code {rate})")
        self.sample_rate = rate
        self._chunks: list[np.ndarray] = []
        self._events: list[PhonemeEvent] = []
        # keep a reference: ctypes frees the trampoline when the Python object dies
        self._callback = _SynthCallback(self._on_audio)
        lib.espeak_SetSynthCallback(self._callback)
        # eSpeak's noise sources (breath, Klatt aspiration) draw from libc rand(); reseeding it per
        # utterance makes each utterance independent of what the process synthesized before
        self._libc = ctypes.CDLL(None)
        self._libc.srand.argtypes = [ctypes.c_uint]

    def _on_audio(self, wav, numsamples, events) -> int:
        if numsamples > 0 and wav:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        i = 0
        while events[i].type != _EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == _EVENT_PHONEME:
                self._events.append(PhonemeEvent(ev.sample, ev.id.string.decode("ascii", "replace")))
            i += 1
        return 0

    def set_voice(self, name: str, rate: int, volume: int) -> None:
        """Select voice ``name`` (e.g. ``en-us+spk0001``); the caller checks the variant file exists,
        since eSpeak silently falls back to the base voice for an unknown variant."""
        err = self.lib.espeak_SetVoiceByName(name.encode())
        if err != _EE_OK:
            raise CorpusError(f"espeak could not select voice {name!r} (error {err}) from {self.data_dir}")
        for param, value in ((_PARAM_RATE, rate), (_PARAM_VOLUME, volume)):
            err = self.lib.espeak_SetParameter(param, int(value), 0)
            if err != _EE_OK:
                raise CorpusError(f"espeak rejected parameter {param}={value} (error {err})")

    def synth(self, text: str, noise_seed: int) -> Synthesis:
        self._chunks, self._events = [], []
        self._libc.srand(noise_seed & 0xFFFFFFFF)
        data = text.encode("utf-8")
        buf = ctypes.create_string_buffer(data)
        err = self.lib.espeak_Synth(buf, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        if err != _EE_OK:
            raise CorpusError(f"espeak_Synth failed (error {err}) for text {text[:60]!r}")
        samples = np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
        events = sorted(self._events, key=lambda e: e.sample)
        return Synthesis(samples.astype(np.int16, copy=False), events, self.sample_rate)
