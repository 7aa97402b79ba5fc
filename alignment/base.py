"""The aligner interface and backend registry.

A backend implements only :meth:`Aligner.align_transcript`; the base class validates audio and
transcript, downmixes and resamples to the backend's ``sample_rate``, so every backend rejects bad input
the same way (lhotse's workflow shape).

Backends that adapt to a whole corpus also implement :class:`CorpusAdaptive` (``prepare`` / ``adapt`` /
``decode``); the corpus runner pools every file of a corpus through it. Backends that are best run on
many files at once (MFA) implement :class:`BatchAligner`.

Aligner instances must be picklable: the corpus runner hands one to each worker process.
"""

from __future__ import annotations

import abc
import importlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np

from visemes.core.audio import resample, validate_audio
from visemes.core.errors import AlignmentError, BackendUnavailableError, InputError, closest_matches
from visemes.core.timeline import Alignment, Transcript



class Aligner(abc.ABC):
    """Audio + transcript -> word and phone boundaries."""

    #: Registry name, e.g. ``"builtin"`` or ``"mfa"``.
    name: str = ""
    #: The rate the backend works at; :meth:`align` resamples to it. None = any supported rate.
    sample_rate: int | None = None

    @classmethod
    def is_available(cls) -> bool:
        """True when everything the backend needs is installed on this machine."""
        return True

    @classmethod
    def unavailable_reason(cls) -> str:
        return ""

    def align(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        """Align mono or multi-channel ``audio`` (samples x channels) to ``transcript``.

        Returns an :class:`~visemes.core.timeline.Alignment` with ``words`` and ``phones`` tiers whose
        phone labels repeat the transcript's symbols exactly, in order; silence is left as gaps.
        """
        if not self.is_available():
            raise BackendUnavailableError(f"Aligner {self.name!r} is not available: {self.unavailable_reason()}")
        if not isinstance(transcript, Transcript):
            raise InputError("align() needs a visemes.core.timeline.Transcript (words with phones).")
        audio = validate_audio(audio, sample_rate)
        rate = int(sample_rate)
        if self.sample_rate is not None and rate != self.sample_rate:
            audio, rate = resample(audio, rate, self.sample_rate), int(self.sample_rate)
        return check_result(self.align_transcript(audio, rate, transcript), transcript, self.name)

    @abc.abstractmethod
    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        """Backend work on validated mono float32 audio."""


def check_result(alignment: Alignment, transcript: Transcript, backend: str = "") -> Alignment:
    """Hold a backend to the contract: ``phones`` repeats the transcript's symbols exactly, in order, and
    ``words`` (when present) has one interval per transcript word. Raises :class:`AlignmentError`."""
    who = f"The {backend!r} aligner" if backend else "The aligner"
    if not isinstance(alignment, Alignment) or not alignment.has_tier("phones"):
        raise AlignmentError(f"{who} returned no phones tier; this is a bug in the backend.")
    got, want = alignment.phones.labels, transcript.symbols
    if got != want:
        raise AlignmentError(
            f"{who} returned phones {' '.join(got)!r} for the transcript {' '.join(want)!r}; a backend must "
            "repeat the transcript's phones exactly (this is a bug in the backend)."
        )
    if alignment.has_tier("words") and len(alignment.words) != len(transcript.words):
        raise AlignmentError(
            f"{who} returned {len(alignment.words)} words for a transcript of {len(transcript.words)}; this is "
            "a bug in the backend."
        )
    return alignment


@runtime_checkable
class CorpusAdaptive(Protocol):
    """The corpus adaptation protocol (see CONTRACTS.md).

    ``prepare`` runs in worker processes and returns picklable features (in one process, on a few threads
    at once: it must be thread-safe); ``adapt`` runs once in the main process on the pooled list of every
    file's features; ``decode`` runs in workers with the adapted parameters. Audio given to ``prepare`` is
    validated mono float32 at the aligner's ``sample_rate``.
    """

    def prepare(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Any: ...

    def adapt(self, prepared: Sequence[Any]) -> Any: ...

    def decode(self, prepared: Any, params: Any) -> Alignment: ...


@dataclass(frozen=True)
class BatchItem:
    """One file for :meth:`BatchAligner.align_many`: a name unique in the batch, the audio file, its transcript."""

    key: str
    audio_path: Path
    transcript: Transcript


@runtime_checkable
class BatchAligner(Protocol):
    """Backends that align a whole corpus in one external run (MFA adapts per speaker that way)."""

    def align_many(self, items: Sequence[BatchItem], jobs: int = 1) -> dict[str, Alignment | Exception]: ...


_REGISTRY: dict[str, Callable[..., Aligner]] = {}

#: Backends shipped with the distribution: importing the module registers the backend, so it is
#: imported on first request only (the built-in aligner pulls in JAX).
SHIPPED_BACKENDS = MappingProxyType({"builtin": "visemes.alignment.builtin", "mfa": "visemes.alignment.mfa"})

#: Entry-point group through which other distributions can add backends (value: a factory).
ENTRY_POINT_GROUP = "visemes.aligners"


def register_aligner(name: str, factory: Callable[..., Aligner]) -> None:
    """Register a backend factory under ``name`` (third-party backends may call this too)."""
    _REGISTRY[name] = factory


def registered_aligners() -> dict[str, Callable[..., Aligner]]:
    return dict(_REGISTRY)


def known_aligner_names() -> list[str]:
    """Names that :func:`get_aligner` can try: registered, shipped and advertised by entry points."""
    return sorted(set(_REGISTRY) | set(SHIPPED_BACKENDS) | set(_entry_points()))


def get_aligner(name: str, **options: Any) -> Aligner:
    """An instance of backend ``name`` built with ``options`` (e.g. ``acoustic_model=`` for MFA).

    Shipped backends are imported on first use; a shipped backend whose module cannot be imported
    raises :class:`BackendUnavailableError` with the import problem.
    """
    if name not in _REGISTRY and name in SHIPPED_BACKENDS:
        try:
            importlib.import_module(SHIPPED_BACKENDS[name])
        except ImportError as exc:
            raise BackendUnavailableError(
                f"The {name!r} aligner cannot be loaded ({exc}); reinstall visemes or choose another backend "
                f"({', '.join(sorted(set(_REGISTRY) | set(SHIPPED_BACKENDS)))})."
            ) from None
    if name not in _REGISTRY:
        entry = _entry_points().get(name)
        if entry is not None:
            register_aligner(name, entry.load())
    factory = _REGISTRY.get(name)
    if factory is None:
        known = known_aligner_names()
        close = closest_matches(name, known)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"Unknown aligner backend {name!r}.{hint} Available: {', '.join(known)}.")
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as exc:
        raise InputError(f"Aligner {name!r} does not accept the options {sorted(options)}: {exc}.") from None
    except ValueError:  # no introspectable signature (a builtin callable): let the call decide
        pass
    return factory(**options)


def _entry_points() -> dict[str, Any]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
