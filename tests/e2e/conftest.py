"""Shared synthetic speech for the end-to-end tests (made here with espeak-ng; no external files)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

EN_TEXT = "Hello world, this is a test."


@dataclass(frozen=True)
class Speech:
    text: str
    lang: str
    audio: np.ndarray
    sample_rate: int
    gold: object  # espeak-ng's own Alignment
    path: Path    # the audio written as a 16-bit WAV


@pytest.fixture(scope="session")
def en_speech(tmp_path_factory) -> Speech:
    from visemes.speech.synthesis import speak

    spoken = speak(EN_TEXT, "en-US")
    path = tmp_path_factory.mktemp("speech") / "hello.wav"
    sf.write(path, spoken.audio, spoken.sample_rate, subtype="PCM_16")
    return Speech(EN_TEXT, "en-US", spoken.audio, spoken.sample_rate, spoken.alignment, path)


@pytest.fixture(scope="session")
def en_result(en_speech):
    """The aligned coarticulation result for ``en_speech`` (computed once)."""
    from visemes.pipeline.animator import animate

    return animate(en_speech.path, text=en_speech.text, lang="en-US", use_model=False)


@pytest.fixture()
def blender(monkeypatch):
    """docs/blender_import.py imported with a stand-in bpy: (module, mesh object, scene, saves)."""
    import blender_fakes

    return blender_fakes.load_script(monkeypatch)
