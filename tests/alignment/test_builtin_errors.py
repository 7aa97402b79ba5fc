"""Clear errors for unusable input, and registration of the backend."""

from __future__ import annotations

import numpy as np
import pytest

from visemes.alignment.base import registered_aligners
from visemes.alignment.builtin import BuiltinAligner
from visemes.core.errors import AlignmentError, AudioError, TranscriptError
from visemes.core.timeline import Transcript

SR = 16_000


def _transcript(text: str = "p a | t a") -> Transcript:
    return Transcript.from_ipa(text)


def test_registered_as_builtin():
    assert registered_aligners()["builtin"] is BuiltinAligner
    assert BuiltinAligner.name == "builtin"


def test_empty_audio_is_rejected():
    with pytest.raises(AudioError, match="empty"):
        BuiltinAligner().align(np.zeros(0, np.float32), SR, _transcript())


def test_silent_audio_is_rejected_with_advice():
    with pytest.raises(AudioError, match="silent"):
        BuiltinAligner().align(np.zeros(SR, np.float32), SR, _transcript())


def test_non_finite_audio_is_rejected():
    audio = np.full(SR, np.nan, np.float32)
    with pytest.raises(AudioError, match="NaN"):
        BuiltinAligner().align(audio, SR, _transcript())


def test_empty_transcript_is_rejected():
    with pytest.raises(TranscriptError):
        Transcript(())
    with pytest.raises(TranscriptError):
        Transcript.from_ipa("   ")


def test_more_phones_than_frames_is_an_alignment_error():
    audio = (np.random.default_rng(0).normal(size=int(0.06 * SR)) * 0.1).astype(np.float32)
    with pytest.raises(AlignmentError, match="too short"):
        BuiltinAligner().align(audio, SR, Transcript.from_ipa(" ".join(["a"] * 40)))
