"""What the built-in aligner keeps per file between preparing and decoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visemes.core.timeline import Transcript


@dataclass(frozen=True)
class Prepared:
    """Per-file features and transcript (plain arrays and dataclasses: picklable for worker processes)."""

    feats: np.ndarray  # [T, D] float32, normalised
    energy: np.ndarray  # [T] raw c0 (log energy proxy)
    duration: float
    transcript: Transcript
