"""Small hand-made inputs shared by the export tests (no devdata: the repo must test anywhere)."""

from __future__ import annotations

import numpy as np

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.curves import FrameCurves, MouthAnimation, frame_count
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.core.vocabulary import OCULUS_15

MOUTH_SHAPES = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "tongueOut")


def sample_alignment(viseme_set: str = "rhubarb") -> Alignment:
    """'héllo wörld' with IPA phones, a tone attr, a low confidence, and a pause between the words."""
    words = Tier("words", (Interval(0.10, 0.50, "héllo"), Interval(0.62, 0.95, "wörld")))
    phones = Tier("phones", (
        Interval(0.10, 0.18, "h", {"confidence": 0.31}),
        Interval(0.18, 0.30, "ɛ", {"tone": "1", "confidence": 0.9}),
        Interval(0.30, 0.40, "l"),
        Interval(0.40, 0.50, "oʊ", {"stress": 1}),
        Interval(0.62, 0.70, "w"),
        Interval(0.70, 0.80, "ɝ"),
        Interval(0.80, 0.88, "l"),
        Interval(0.88, 0.95, "d"),
    ))
    shapes = ("C", "C", "H", "F", "F", "E", "H", "B") if viseme_set == "rhubarb" else (
        "sil", "E", "nn", "ou", "ou", "RR", "nn", "DD")
    visemes = Tier("visemes", tuple(Interval(p.start, p.end, s) for p, s in zip(phones, shapes)))
    return Alignment((words, phones, visemes), 1.1, {"lang": "en", "viseme_set": viseme_set, "note": "ünïcode"})


def sample_animation(fps: float = 30.0, duration: float = 1.1, seed: int = 0) -> MouthAnimation:
    rng = np.random.default_rng(seed)
    n = frame_count(duration, fps)
    return MouthAnimation(
        FrameCurves(fps, ARTICULATION_PARAMS, rng.random((n, len(ARTICULATION_PARAMS)))),
        FrameCurves(fps, MOUTH_SHAPES, rng.random((n, len(MOUTH_SHAPES)))),
        FrameCurves(fps, OCULUS_15, rng.dirichlet(np.ones(15), size=n)),
        source="test",
    )
