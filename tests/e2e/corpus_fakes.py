"""A stand-in per-file function for testing the corpus runner apart from the pipeline.

It lives in its own module so worker processes (spawned pool, Dask workers) can import it by name.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import soundfile as sf

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import AudioError, TranscriptError


def fake_process(item, options, staging: Path) -> dict:
    """Reads the audio and transcript like the pipeline does and writes a deterministic digest."""
    try:
        audio, sr = sf.read(item.audio, dtype="float32", always_2d=False)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"Cannot read {Path(item.audio).name}: {exc}. Re-export the file as WAV or FLAC.") from None
    if item.transcript is None:
        raise TranscriptError(f"No transcript beside {Path(item.audio).name}; add a .txt file with the same name.")
    text = Path(item.transcript).read_text(encoding="utf-8")
    if "FAIL" in text:
        raise TranscriptError("the transcript asks to fail; fix the transcript.")
    if "CRASH" in text:
        raise ZeroDivisionError("simulated bug")
    digest = hashlib.sha256(np.ascontiguousarray(audio).tobytes() + text.encode()).hexdigest()
    atomic_write_text(staging / "out.json", json.dumps({"sha": digest, "lang": options.lang, "fps": options.fps}))
    return {"duration": len(audio) / sr, "pid": os.getpid()}
