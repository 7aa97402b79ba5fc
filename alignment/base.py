"""The aligner interface and backend registry.

A backend implements only :meth:`Aligner.align_transcript`; the base class validates audio and
transcript so every backend rejects bad input the same way (lhotse's workflow shape).
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import numpy as np

from visemes.errors import AudioError, BackendUnavailableError, InputError
from visemes.timeline import Alignment, Transcript

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 96_000


class Aligner(abc.ABC):
    """Audio + transcript -> word and phone boundaries."""

    #: Registry name, e.g. ``"builtin"`` or ``"mfa"``.
    name: str = ""

    @classmethod
    def is_available(cls) -> bool:
        """True when everything the backend needs is installed on this machine."""
        return True

    @classmethod
    def unavailable_reason(cls) -> str:
        return ""

    def align(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        """Align mono or multi-channel ``audio`` (samples x channels) to ``transcript``.

        Returns an :class:`~visemes.timeline.Alignment` with ``words`` and ``phones`` tiers whose
        phone labels repeat the transcript's symbols exactly, in order; silence is left as gaps.
        """
        if not self.is_available():
            raise BackendUnavailableError(f"Aligner {self.name!r} is not available: {self.unavailable_reason()}")
        if not isinstance(transcript, Transcript):
            raise InputError("align() needs a visemes.timeline.Transcript (words with phones).")
        audio = validate_audio(audio, sample_rate)
        return self.align_transcript(audio, int(sample_rate), transcript)

    @abc.abstractmethod
    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        """Backend work on validated mono float32 audio."""


def validate_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 in [-1, 1]-ish, finite, of a supported rate; raises :class:`AudioError` otherwise."""
    if not isinstance(sample_rate, (int, np.integer)) or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"Sample rate {sample_rate!r} Hz is not supported; give audio between {MIN_SAMPLE_RATE} and "
            f"{MAX_SAMPLE_RATE} Hz (resample it first)."
        )
    array = np.asarray(audio)
    if array.size == 0:
        raise AudioError("The audio is empty (0 samples); check the file was recorded and not truncated.")
    if np.issubdtype(array.dtype, np.integer):
        info = np.iinfo(array.dtype)
        array = array.astype(np.float32) / max(abs(info.min), info.max)
    array = array.astype(np.float32, copy=False)
    if array.ndim == 2:
        # samples x channels (soundfile's layout); tolerate channels x samples for short channel counts
        if array.shape[0] < array.shape[1] and array.shape[0] <= 8:
            array = array.T
        array = array.mean(axis=1)
    elif array.ndim != 1:
        raise AudioError(f"Audio must be 1-D (mono) or 2-D (samples x channels), got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise AudioError("The audio contains NaN or infinite samples; the file is corrupt or was decoded wrongly.")
    min_seconds = 0.05
    if array.shape[0] < int(min_seconds * sample_rate):
        raise AudioError(
            f"The audio is {array.shape[0] / sample_rate * 1000:.1f} ms long; at least {min_seconds * 1000:.0f} ms "
            "is needed to align anything."
        )
    return np.ascontiguousarray(array)


_REGISTRY: dict[str, Callable[[], Aligner]] = {}


def register_aligner(name: str, factory: Callable[[], Aligner]) -> None:
    """Register a backend factory under ``name`` (third-party backends may call this too)."""
    _REGISTRY[name] = factory


def registered_aligners() -> dict[str, Callable[[], Aligner]]:
    return dict(_REGISTRY)
