"""Azure Speech-style outputs: viseme events and blend-shape animation frames.

``azure-visemes``: the events the Azure Speech SDK raises as ``VisemeReceived`` (``VisemeId`` 0-21 of
Azure's viseme set, ``AudioOffset`` in 100-ns ticks from the start of the audio), as a JSON list in
time order: one event where the viseme changes, ``0`` (silence) for pauses. Built from the
alignment's viseme tier in the ``azure`` set (derived from the phones with the language pack).

``azure-blendshapes``: the animation JSON Azure sends with ``<mstts:viseme type="FacialExpression"/>``:
``{"FrameIndex": 0, "BlendShapes": [[55 weights], ...]}``, one row per frame at 60 fps (Azure's rate)
from t = 0, our blendshape curves resampled linearly. Columns (:data:`AZURE_BLENDSHAPES`): the 52
ARKit blendshapes in Apple's documentation order (``eyeBlinkLeft`` ... ``tongueOut``, the order client
code of Azure's blend shapes uses), then ``headRoll``, ``leftEyeRoll``, ``rightEyeRoll``; shapes we do
not animate (eyes, brows, the rotations) are 0.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import FrameCurves
from visemes.core.errors import ExportError
from visemes.formats.parts import ExportParts, viseme_tier_in_set
from visemes.mouth.arkit import ARKIT_52

AZURE_BLENDSHAPES: tuple[str, ...] = (*ARKIT_52, "headRoll", "leftEyeRoll", "rightEyeRoll")
AZURE_FPS = 60.0
TICKS_PER_SECOND = 10_000_000  # .NET ticks of 100 ns, the unit of VisemeReceived's AudioOffset
SILENCE_ID = 0


def _ticks(seconds: float) -> int:
    return int(round(seconds * TICKS_PER_SECOND))


def viseme_events(parts: ExportParts, fmt: str = "azure-visemes") -> list[dict[str, int]]:
    """``[{"AudioOffset": ticks, "VisemeId": id}, ...]``: an event at every change of viseme."""
    tier = viseme_tier_in_set(parts, "azure", fmt)
    events: list[dict[str, int]] = []

    def emit(at: float, viseme: int) -> None:
        tick = _ticks(at)
        if events and events[-1]["AudioOffset"] == tick:
            events.pop()  # two changes at one tick: the later viseme is what shows
        if events and events[-1]["VisemeId"] == viseme:
            return
        events.append({"AudioOffset": tick, "VisemeId": viseme})

    cursor = 0.0
    for iv in tier:
        try:
            viseme = int(iv.label)
        except ValueError:
            raise ExportError(f"Viseme {iv.label!r} at {iv.start:.2f} s is not an Azure viseme id (0-21); "
                              "export the viseme tier of the 'azure' set.") from None
        if not 0 <= viseme <= 21:
            raise ExportError(f"Azure viseme ids are 0-21, got {viseme} at {iv.start:.2f} s.")
        if iv.start > cursor + 1e-9:
            emit(cursor, SILENCE_ID)  # the pause before this viseme (from 0 for the first one)
        emit(iv.start, viseme)
        cursor = iv.end
    if cursor < parts.need_alignment(fmt).duration - 1e-9:
        emit(cursor, SILENCE_ID)
    return events


def write_visemes(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    text = "[\n" + ",\n".join(" " + json.dumps(e) for e in viseme_events(parts)) + "\n]\n"  # one event a line
    return atomic_write_text(path, text, overwrite=overwrite)


def blendshape_frames(blendshapes: FrameCurves, duration: float | None = None) -> np.ndarray:
    """``[frames, 55]`` weights at 60 fps from t = 0 to ``duration`` (default: the curves' end)."""
    by_lower = {c.lower(): i for i, c in enumerate(blendshapes.channels)}
    unknown = sorted(set(by_lower) - {c.lower() for c in AZURE_BLENDSHAPES})
    if unknown:
        raise ExportError(f"Blendshape channel(s) {unknown} are not ARKit blendshapes; the Azure layout cannot hold them.")
    end = float(blendshapes.times[-1]) if duration is None else float(duration)
    times = np.arange(int(np.floor(end * AZURE_FPS + 1e-9)) + 1) / AZURE_FPS
    out = np.zeros((len(times), len(AZURE_BLENDSHAPES)))
    src = blendshapes.times
    for j, name in enumerate(AZURE_BLENDSHAPES):
        i = by_lower.get(name.lower())
        if i is not None:
            out[:, j] = np.interp(times, src, blendshapes.values[:, i].astype(np.float64))
    return out


def to_blendshapes_json(frames: np.ndarray) -> str:
    rounded = np.round(np.clip(frames, 0.0, 1.0), 4) + 0.0  # + 0.0: no "-0.0"
    return json.dumps({"FrameIndex": 0, "BlendShapes": rounded.tolist()}, separators=(",", ":")) + "\n"


def write_blendshapes(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    animation = parts.need_animation("azure-blendshapes")
    duration = parts.alignment.duration if parts.alignment is not None else None
    return atomic_write_text(path, to_blendshapes_json(blendshape_frames(animation.blendshapes, duration)),
                             overwrite=overwrite)
