"""A thin ctypes binding to the espeak-ng shared library shipped by ``espeakng-loader``.

Hand-written because no maintained Python package exposes espeak-ng's *synthesis with phoneme events*
(phonemizer wraps only text-to-phonemes). The binding follows ``speak_lib.h`` of espeak-ng 1.52.

espeak-ng keeps its state in C globals, so the library is loaded once per process (lazily, on the first
call of :func:`engine`) and every call goes through the engine's lock. phonemizer loads its own *copy*
of the same ``.so`` (it copies the file to a temporary folder), so both coexist in one process.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from visemes.core.errors import BackendUnavailableError, InputError, TranscriptError, closest_matches

# --- constants from speak_lib.h -------------------------------------------------------------------
AUDIO_OUTPUT_SYNCHRONOUS = 0x02
espeakINITIALIZE_PHONEME_EVENTS = 0x0001
espeakINITIALIZE_PHONEME_IPA = 0x0002
espeakINITIALIZE_DONT_EXIT = 0x8000
espeakCHARS_UTF8 = 1
POS_CHARACTER = 1
espeakRATE, espeakVOLUME, espeakPITCH, espeakRANGE = 1, 2, 3, 4
EE_OK, EE_INTERNAL_ERROR, EE_BUFFER_FULL, EE_NOT_FOUND = 0, -1, 1, 2

#: espeak_EVENT_TYPE values -> readable names.
EVENT_TYPES: dict[int, str] = {
    0: "list_terminated",
    1: "word",
    2: "sentence",
    3: "mark",
    4: "play",
    5: "end",
    6: "msg_terminated",
    7: "phoneme",
    8: "samplerate",
}

#: Documented espeak-ng parameter ranges (rate in words per minute, pitch 0..100).
RATE_RANGE = (80, 900)
PITCH_RANGE = (0, 100)


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


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),  # priority byte + NUL-terminated names, list ends with a 0 byte
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))


@dataclass(frozen=True)
class EspeakEvent:
    """One espeak-ng synthesis event.

    ``sample`` is the exact position in the returned audio (samples from its start); ``audio_ms`` is
    espeak's own millisecond rounding of it. ``name`` is the IPA phoneme name for ``phoneme`` events
    (empty for pauses), ``number`` the word/sentence number for those events.
    """

    kind: str
    sample: int
    audio_ms: int
    text_position: int
    length: int
    name: str = ""
    number: int = 0


class EspeakEngine:
    """The loaded, initialised espeak-ng library. Use :func:`engine` to get the process-wide one."""

    def __init__(self, library_path: str, data_path: str, steady_variant: str | None = None):
        try:
            lib = ctypes.CDLL(library_path)
        except OSError as exc:
            raise BackendUnavailableError(
                f"Cannot load the espeak-ng library at {library_path}: {exc}. Reinstall the "
                "`espeakng-loader` wheel (pip install --force-reinstall espeakng-loader)."
            ) from None
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetSynthCallback.restype = None
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_SetParameter.restype = ctypes.c_int
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
            ctypes.c_void_p, ctypes.c_void_p,
        ]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_Synchronize.restype = ctypes.c_int
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        options = espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_PHONEME_IPA | espeakINITIALIZE_DONT_EXIT
        sample_rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data_path.encode(), options)
        if sample_rate <= 0:
            raise BackendUnavailableError(
                f"espeak-ng failed to initialise with data path {data_path} (code {sample_rate}); "
                "reinstall `espeakng-loader`."
            )
        self.library_path = library_path
        self.data_path = data_path
        self.steady_variant = steady_variant
        self.sample_rate = int(sample_rate)
        self._lib = lib
        self._lock = threading.RLock()  # re-entrant: voice lookup runs inside synthesis
        self._chunks: list[np.ndarray] = []
        self._events: list[EspeakEvent] = []
        # keep a reference: ctypes frees the trampoline when the Python object dies
        self._callback = _SynthCallback(self._on_synth)
        lib.espeak_SetSynthCallback(self._callback)
        self._voices: tuple[frozenset[str], dict[str, str]] | None = None

    # called by espeak-ng from inside espeak_Synth, on the calling thread (synchronous mode)
    def _on_synth(self, wav, n_samples, events) -> int:
        if wav and n_samples > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n_samples,)).copy())
        i = 0
        while events[i].type != 0:
            ev = events[i]
            kind = EVENT_TYPES.get(ev.type, f"type{ev.type}")
            name, number = "", 0
            if kind == "phoneme":
                name = ev.id.string.decode("utf-8", "replace")
            elif kind in ("word", "sentence", "end", "samplerate"):
                number = int(ev.id.number)
            self._events.append(
                EspeakEvent(kind, int(ev.sample), int(ev.audio_position), int(ev.text_position), int(ev.length), name, number)
            )
            i += 1
        return 0  # 0 = continue synthesis

    def voices(self) -> tuple[str, ...]:
        """Every voice identifier, voice name and language name espeak-ng knows (``en-us``, ``roa/fr``...)."""
        return tuple(sorted(self._voice_table()[0]))

    def _voice_table(self) -> tuple[frozenset[str], dict[str, str]]:
        """(all names, language name -> identifier of the voice that serves it best)."""
        with self._lock:
            if self._voices is None:
                names: set[str] = set()
                best: dict[str, tuple[int, str]] = {}
                array = self._lib.espeak_ListVoices(None)
                i = 0
                while array and array[i]:
                    voice = array[i].contents
                    ident = voice.identifier.decode("utf-8", "replace") if voice.identifier else ""
                    names.add(ident)
                    if voice.name:
                        names.add(voice.name.decode("utf-8", "replace"))
                    if voice.languages:  # priority byte, then a NUL-terminated name; repeated; ends with 0
                        offset = 0
                        while True:
                            priority = ctypes.c_ubyte.from_address(voice.languages + offset).value
                            if priority == 0:
                                break
                            lang = ctypes.string_at(voice.languages + offset + 1).decode("utf-8", "replace")
                            names.add(lang)
                            if ident and (lang.lower() not in best or priority < best[lang.lower()][0]):
                                best[lang.lower()] = (priority, ident)
                            offset += len(lang) + 2
                    i += 1
                names.discard("")
                self._voices = (frozenset(names), {lang: ident for lang, (_, ident) in best.items()})
            return self._voices

    def _select_voice(self, voice: str) -> int:
        """Set the voice by name, or else by language name (``fr-fr`` -> ``roa/fr``); variants kept.

        With no variant given, the ``visemes-steady`` variant (when available) turns pitch flutter off:
        espeak-ng keeps its flutter phase in a static that outlives every call and even re-initialisation,
        so otherwise the same text gives slightly different audio depending on what was spoken before.
        """
        if "+" not in voice and self.steady_variant:
            voice = f"{voice}+{self.steady_variant}"
        status = self._lib.espeak_SetVoiceByName(voice.encode("utf-8"))
        if status == EE_OK:
            return status
        base, plus, variant = voice.partition("+")
        ident = self._voice_table()[1].get(base.lower())
        if ident is None:
            return status
        return self._lib.espeak_SetVoiceByName(f"{ident}{plus}{variant}".encode("utf-8"))

    def synthesize(self, text: str, voice: str, rate: int, pitch: int) -> tuple[np.ndarray, int, list[EspeakEvent]]:
        """Speak ``text`` with ``voice``; returns (int16 samples, sample rate, events)."""
        if not isinstance(text, str) or not text.strip():
            raise TranscriptError("Nothing to synthesize: the text is empty. Give at least one word.")
        rate, pitch = _check_range("rate", rate, RATE_RANGE), _check_range("pitch", pitch, PITCH_RANGE)
        data = text.encode("utf-8") + b"\0"
        with self._lock:
            voice_status = self._select_voice(voice)
            if voice_status == EE_OK:
                self._lib.espeak_SetParameter(espeakRATE, rate, 0)
                self._lib.espeak_SetParameter(espeakPITCH, pitch, 0)
                self._chunks, self._events = [], []
                try:
                    status = self._lib.espeak_Synth(data, len(data), 0, POS_CHARACTER, 0, espeakCHARS_UTF8, None, None)
                    self._lib.espeak_Synchronize()
                    chunks, events = self._chunks, self._events
                finally:
                    self._chunks, self._events = [], []
        if voice_status != EE_OK:
            close = closest_matches(voice.split("+")[0], self.voices())
            hint = f" Closest espeak-ng voices: {', '.join(close)}." if close else ""
            raise InputError(
                f"espeak-ng has no voice {voice!r} (error {voice_status}).{hint} Variants are written "
                "`<voice>+<variant>`, e.g. `en-us+f3`."
            )
        if status != EE_OK:
            raise BackendUnavailableError(
                f"espeak-ng synthesis failed with error {status} for voice {voice!r}; try another voice or "
                "shorter text, and report it if it persists."
            )
        audio = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)
        return audio, self.sample_rate, events


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise InputError(f"espeak-ng {name} must be an integer, got {value!r}.")
    lo, hi = bounds
    if not lo <= int(value) <= hi:
        raise InputError(f"espeak-ng {name} must be between {lo} and {hi}, got {value}.")
    return int(value)


# a lock for the one-time construction below (lru_cache alone may build twice under a race)
_ENGINE_LOCK = threading.Lock()


STEADY_VARIANT = "visemes-steady"


def _data_with_steady_variant(data_path: Path) -> Path | None:
    """A private view of espeak-ng's data folder plus one voice variant file that sets ``flutter 0``.

    The wheel's data folder is read-only to us and a variant can only be named from ``voices/!v``, so
    the view is a temporary folder of symlinks (a few hundred, made once per process, removed at
    exit). None where symlinks cannot be made: synthesis then works as before, without the variant.
    """
    root = Path(tempfile.mkdtemp(prefix="visemes-espeak-"))
    atexit.register(shutil.rmtree, root, True)
    shadow = root / "espeak-ng-data"
    try:
        shadow.mkdir()
        for entry in data_path.iterdir():
            if entry.name != "voices":
                (shadow / entry.name).symlink_to(entry)
        (shadow / "voices").mkdir()
        for entry in (data_path / "voices").iterdir():
            if entry.name != "!v":
                (shadow / "voices" / entry.name).symlink_to(entry)
        variants = shadow / "voices" / "!v"
        variants.mkdir()
        for entry in (data_path / "voices" / "!v").iterdir():
            (variants / entry.name).symlink_to(entry)
        (variants / STEADY_VARIANT).write_text(f"name {STEADY_VARIANT}\nflutter 0\n", encoding="utf-8")
    except OSError:
        return None
    return shadow


@functools.lru_cache(maxsize=1)
def _build_engine() -> EspeakEngine:
    try:
        import espeakng_loader
    except ImportError:
        raise BackendUnavailableError(
            "espeak-ng is unavailable: the `espeakng-loader` package is not installed "
            "(pip install espeakng-loader)."
        ) from None
    data_path = Path(espeakng_loader.get_data_path())
    steady = _data_with_steady_variant(data_path)
    return EspeakEngine(str(espeakng_loader.get_library_path()), str(steady or data_path),
                        STEADY_VARIANT if steady else None)


def engine() -> EspeakEngine:
    """The process-wide espeak-ng engine, loaded and initialised on first use."""
    with _ENGINE_LOCK:
        return _build_engine()
