"""Forced alignment: audio + words/phones -> timed ``words`` and ``phones`` tiers.

>>> from visemes.alignment import align
>>> timeline = align("hello.wav", text="hello world", lang="en")          # doctest: +SKIP
>>> timeline = align(samples, 16000, phones=["h", "ə", "l", "oʊ"])        # doctest: +SKIP

Backends: ``"builtin"`` (the universal aligner, default) and ``"mfa"`` (Montreal Forced Aligner, when
installed); more through :func:`register_aligner` or the ``visemes.aligners`` entry-point group.
Backends load on first use, so importing this package is cheap.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visemes.core.audio import check_sample_rate, load_audio
from visemes.alignment.base import (
    SHIPPED_BACKENDS,
    Aligner,
    BatchAligner,
    BatchItem,
    CorpusAdaptive,
    get_aligner,
    known_aligner_names,
    register_aligner,
    registered_aligners,
    validate_audio,
)
from visemes.alignment.transcripts import check_text_fits, make_transcript
from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Transcript

DEFAULT_BACKEND = "builtin"

__all__ = [
    "Aligner", "BatchAligner", "BatchItem", "CorpusAdaptive", "DEFAULT_BACKEND", "align", "available_aligners",
    "get_aligner", "load_audio", "register_aligner", "registered_aligners", "validate_audio",
]


def align(
    audio: np.ndarray | str | os.PathLike,
    sample_rate: int | None = None,
    *,
    text: str | None = None,
    lang: str | None = None,
    phones: Sequence[str] | Transcript | str | None = None,
    backend: str | Aligner = DEFAULT_BACKEND,
    backend_options: Mapping[str, Any] | None = None,
) -> Alignment:
    """Align speech to ``text`` (G2P through the ``lang`` pack) or to given IPA ``phones``.

    ``audio`` is a file path (wav/flac/ogg/mp3, or a video or other container ffmpeg reads: its audio
    track) or an array (samples, or samples x channels; float or int) with its ``sample_rate``. ``phones`` is a list of IPA tokens (one word), an IPA string with `` | ``
    between words, or a :class:`~visemes.core.timeline.Transcript`. ``backend`` is a registered name or an
    :class:`Aligner` instance; ``backend_options`` go to the named backend's constructor.

    Returns an Alignment with ``words`` and ``phones`` tiers; the phone labels repeat the transcript's
    symbols exactly, in order, and silence is left as gaps.
    """
    if isinstance(audio, (str, os.PathLike)):
        samples, rate = load_audio(Path(audio))
        if sample_rate is not None and check_sample_rate(sample_rate) != rate:
            raise InputError(
                f"{audio} is recorded at {rate} Hz but sample_rate={sample_rate} was given; leave sample_rate "
                "out for files (it is read from the header)."
            )
    else:
        if sample_rate is None:
            raise InputError("An audio array needs its sample_rate, e.g. align(samples, 16000, text=..., lang=...).")
        samples, rate = audio, check_sample_rate(sample_rate)
        samples = validate_audio(samples, rate)
    # the audio first (cheap to check), then the transcript (G2P of a long text is slow)
    check_text_fits(text, len(samples) / rate)
    transcript = make_transcript(text=text, lang=lang, phones=phones)
    if isinstance(backend, Aligner):
        if backend_options:
            raise InputError("backend_options apply to a backend given by name, not to an Aligner instance.")
        aligner = backend
    else:
        aligner = get_aligner(backend, **dict(backend_options or {}))
    result = aligner.align(samples, rate, transcript)
    facts = {"aligner": aligner.name, "lang": transcript.lang or lang}
    return result.with_meta(**{k: v for k, v in facts.items() if v and k not in result.meta})


def available_aligners() -> dict[str, bool]:
    """Every known backend name -> whether it can run on this machine (imports the shipped backends)."""
    out: dict[str, bool] = {}
    for name in known_aligner_names():
        try:
            factory = registered_aligners().get(name) or _load_factory(name)
        except Exception:  # noqa: BLE001 - a broken third-party backend must not hide the others
            out[name] = False
            continue
        is_available = getattr(factory, "is_available", None)
        out[name] = bool(is_available()) if callable(is_available) else True
    return out


def _load_factory(name: str) -> Any:
    if name in SHIPPED_BACKENDS:
        importlib.import_module(SHIPPED_BACKENDS[name])
    return registered_aligners().get(name)
