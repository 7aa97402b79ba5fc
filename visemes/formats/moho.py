"""Moho / Papagayo switch data (``.dat``), as ``rhubarb -f dat --datUsePrestonBlair`` writes it.

Layout: a ``MohoSwitch1`` line, then ``<frame> <mouth>`` lines; frames are 1-based at the given frame
rate (frame of a cue = 1 + floor(fps * start)); a cue landing on the frame of the previous one is
dropped; the last line switches to ``rest`` at the end (one frame later if that frame is taken).

Mouth names are the Preston Blair set Moho's switch layers use. From Rhubarb shapes (Rhubarb's own
mapping):

    A -> MBP   (closed: p b m)          E -> O    (slightly rounded: ɔ ɝ)
    B -> etc   (clenched: most consonants, i)   F -> U    (puckered: u w)
    C -> E     (open: ɛ æ)              G -> FV   (f v)
    D -> AI    (wide open: a)           H -> L    (long l)
    X -> rest  (idle / pause)

``WQ`` is a Moho mouth too but Rhubarb never emits it (its F shape stands for both u and w); we keep
Rhubarb's mapping so a switch layer set up for Rhubarb behaves identically.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import check_fps
from visemes.core.errors import ExportError
from visemes.formats.parts import ExportParts
from visemes.formats.rhubarb import MouthCue, cues_of

MOHO_MOUTHS: tuple[str, ...] = ("rest", "MBP", "etc", "E", "O", "U", "FV", "L", "WQ", "AI")
RHUBARB_TO_MOHO: dict[str, str] = {
    "A": "MBP", "B": "etc", "C": "E", "D": "AI", "E": "O", "F": "U", "G": "FV", "H": "L", "X": "rest",
}
DEFAULT_FPS = 24.0


def frame_number(seconds: float, fps: float) -> int:
    # Truncation exactly as Rhubarb's toFrameNumber (no epsilon), so frame numbers match it to the digit.
    return 1 + int(math.floor(fps * seconds))


def to_dat(cues: list[MouthCue], fps: float = DEFAULT_FPS) -> str:
    fps = check_fps(fps)
    if not cues:
        raise ExportError("No mouth cues to write to the Moho switch file; give an alignment with a phones tier "
                          "or a rhubarb visemes tier.")
    lines = ["MohoSwitch1"]
    last = 0
    for cue in cues:
        frame = frame_number(cue.start, fps)
        if frame == last:
            continue
        lines.append(f"{frame} {RHUBARB_TO_MOHO[cue.shape]}")
        last = frame
    frame = frame_number(cues[-1].end, fps)
    if frame == last:
        frame += 1
    lines.append(f"{frame} {RHUBARB_TO_MOHO['X']}")
    return "\n".join(lines) + "\n"


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False, fps: float | None = None) -> Path:
    if fps is None:
        fps = parts.animation.fps if parts.animation is not None else DEFAULT_FPS
    return atomic_write_text(path, to_dat(cues_of(parts, "moho"), fps), overwrite=overwrite)
