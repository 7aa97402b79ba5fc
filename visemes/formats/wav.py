"""The audio of a result (e.g. the synthetic speech of ``text_to_visemes``) as 16-bit PCM WAV."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile

from visemes.core.atomic import atomic_path
from visemes.core.errors import ExportError
from visemes.formats.parts import ExportParts


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    if parts.audio is None or not parts.sample_rate:
        raise ExportError("The 'wav' export needs audio and its sample rate; this result has no audio.")
    audio = np.asarray(parts.audio, dtype=np.float32)
    with atomic_path(path, overwrite=overwrite, suffix=".wav") as tmp:
        soundfile.write(str(tmp), np.clip(audio, -1.0, 1.0), int(parts.sample_rate), subtype="PCM_16", format="WAV")
    return Path(path)
