"""A stand-in corpus job for testing the runner apart from the pipeline (no aligner, a digest per file).

It lives in its own module so worker processes (the local pool, Dask workers) can import it by name.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from visemes.core.atomic import atomic_write_text
from visemes.core.errors import AudioError, TranscriptError
from visemes.pipeline.jobs import AnimateOptions
from visemes.pipeline.staging import FolderLayout


@dataclass(frozen=True)
class FakeJob:
    """Reads the audio and transcript like the pipeline does and writes a deterministic digest (``out.json``)."""

    options: AnimateOptions
    name: str = "fake"
    aligner: Any = None
    layout: FolderLayout = field(default_factory=FolderLayout)

    def check(self) -> None:
        pass

    def stamp(self) -> Mapping[str, Any]:
        return self.options.to_dict()

    def needs_alignment(self, item) -> bool:
        return False

    def transcript(self, item):
        raise AssertionError("the fake job aligns nothing")

    def finish(self, item, aligned, staging: Path, stem: str) -> dict:
        assert aligned is None
        try:
            audio, sr = sf.read(item.audio, dtype="float32", always_2d=False)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"Cannot read {item.audio.name}: {exc}. Re-export the file as WAV or FLAC.") from None
        if item.transcript is None:
            raise TranscriptError(f"No transcript beside {item.audio.name}; add a .txt file with the same name.")
        text = item.transcript.read_text(encoding="utf-8")
        if "FAIL" in text:
            raise TranscriptError("the transcript asks to fail; fix the transcript.")
        if "CRASH" in text:
            raise ZeroDivisionError("simulated bug")
        digest = hashlib.sha256(np.ascontiguousarray(audio).tobytes() + text.encode()).hexdigest()
        atomic_write_text(staging / "out.json", json.dumps({"sha": digest, "lang": self.options.lang,
                                                            "fps": self.options.fps}))
        flags = ["transcript_mismatch"] if "MISMATCH" in text else []
        return {"duration": len(audio) / sr, "pid": os.getpid(), "qa_flags": flags}
