"""Fixtures for the HTTP service tests (short speech audio made offline with espeak-ng).

The service is the optional ``[service]`` extra; each test module skips (with the reason) without it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory) -> Path:
    """'hello world' spoken by espeak-ng (through the library's text-only path), as a 16-bit WAV."""
    import soundfile as sf

    from visemes.pipeline.animator import animate

    result = animate(text="hello world", lang="en-US", use_model=False)
    path = tmp_path_factory.mktemp("audio") / "hello.wav"
    sf.write(path, result.audio, result.sample_rate, subtype="PCM_16")
    return path
