"""Live Link Face CSV (Epic's iOS face-capture app), written and read with the app's exact layout.

Columns: ``Timecode,BlendShapeCount`` then 61 values: the 52 ARKit blendshapes with the app's
capitalised names in the app's order (``EyeBlinkLeft`` ... ``TongueOut``), then head and eye rotations
(``HeadYaw ... RightEyeRoll``). ``BlendShapeCount`` is always 61. ``Timecode`` is ``HH:MM:SS:FF.mmm``:
frame ``FF`` within the second at the take's frame rate and the sub-frame in thousandths.

Non-integer frame rates use SMPTE timecode at the nominal (next whole) rate: 29.97 and 59.94 fps are
drop-frame (frame numbers 00-01, resp. 00-03, skipped at every minute except each tenth, so the
timecode keeps to the clock), other rates (23.976, 47.952 ...) non-drop (the timecode runs 0.1 % slow,
as on such cameras). The separator stays ``:`` (the app's layout); the reader also accepts ``;``.

We write the mouth blendshapes of the animation (ARKit names matched case-insensitively), zeros for
the others and for the rotations. The reader returns the 52 blendshapes as :class:`FrameCurves`
named and ordered as :data:`visemes.mouth.arkit.ARKIT_52` (``eyeBlinkLeft``...; Apple's order, not the
app's), resampled onto a regular frame grid.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import numpy as np

from visemes.mouth.arkit import ARKIT_52
from visemes.core.atomic import atomic_write_text
from visemes.core.curves import SUPPORTED_FPS, FrameCurves, check_fps
from visemes.core.errors import ExportError
from visemes.core.timeline import MAX_DURATION_S
from visemes.formats.parts import ExportParts

#: The app's blendshape columns, in the app's order (it differs from Apple's documentation order).
LIVELINK_BLENDSHAPES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft", "EyeSquintLeft",
    "EyeWideLeft", "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight", "JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose",
    "MouthFunnel", "MouthPucker", "MouthRight", "MouthLeft", "MouthSmileLeft", "MouthSmileRight",
    "MouthFrownLeft", "MouthFrownRight", "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft",
    "MouthStretchRight", "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight", "MouthUpperUpLeft",
    "MouthUpperUpRight", "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight", "NoseSneerLeft", "NoseSneerRight", "TongueOut",
)
LIVELINK_ROTATIONS: tuple[str, ...] = (
    "HeadYaw", "HeadPitch", "HeadRoll", "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
HEADER: tuple[str, ...] = ("Timecode", "BlendShapeCount", *LIVELINK_BLENDSHAPES, *LIVELINK_ROTATIONS)
BLENDSHAPE_COUNT = len(LIVELINK_BLENDSHAPES) + len(LIVELINK_ROTATIONS)  # 61, as the app writes
DEFAULT_FPS = 60.0  # the app's default capture rate


def arkit_name(column: str) -> str:
    """``EyeBlinkLeft`` -> ``eyeBlinkLeft`` (ARKit's ``ARFaceAnchor.BlendShapeLocation`` spelling)."""
    return column[:1].lower() + column[1:]


_COLUMN_OF: dict[str, str] = {arkit_name(c): c for c in LIVELINK_BLENDSHAPES}


def nominal_rate(fps: float) -> int:
    """Frames per timecode second: the rate itself when whole, else the next whole number (29.97 -> 30)."""
    return int(round(fps)) if abs(fps - round(fps)) < 1e-6 else int(np.ceil(fps))


def dropped_per_minute(fps: float) -> int:
    """Frame numbers SMPTE drop-frame timecode skips each minute (not each tenth): 2 at 29.97, 4 at 59.94,
    0 for whole and other rates."""
    nominal = nominal_rate(fps)
    if nominal in (30, 60) and abs(fps - nominal * 1000 / 1001) < 0.005:
        return nominal // 15
    return 0


def timecode(frame: int, fps: float, subframe: float = 0.0) -> str:
    """``HH:MM:SS:FF.mmm`` for frame ``frame`` counted from 00:00:00:00 (drop-frame at 29.97/59.94)."""
    nominal, drop = nominal_rate(fps), dropped_per_minute(fps)
    frame = int(frame)
    if drop:
        per_10min = nominal * 600 - 9 * drop
        per_min = nominal * 60 - drop
        tens, rem = divmod(frame, per_10min)
        # frame labels skipped so far: 9 minutes' worth per ten minutes, plus the minutes begun in this ten
        frame += 9 * drop * tens + (drop * ((rem - drop) // per_min) if rem >= drop else 0)
    seconds, ff = divmod(frame, nominal)
    hh, rem = divmod(seconds, 3600)
    mm, ss = divmod(rem, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}:{ff:02d}.{int(round(subframe * 1000)) % 1000:03d}"


def timecode_frame(hh: int, mm: int, ss: int, ff: float, fps: float) -> float:
    """The frame number (with sub-frame) of a timecode at ``fps``: the inverse of :func:`timecode`."""
    nominal, drop = nominal_rate(fps), dropped_per_minute(fps)
    minutes = 60 * hh + mm
    return (hh * 3600 + mm * 60 + ss) * nominal + ff - drop * (minutes - minutes // 10)


def parse_timecode(text: str) -> tuple[int, int, int, float]:
    """(hours, minutes, seconds, frame-with-subframe) from ``HH:MM:SS:FF[.mmm]`` (``;`` before the frame,
    the drop-frame mark, is accepted too)."""
    parts = text.strip().replace(";", ":").split(":")
    if len(parts) != 4:
        raise ExportError(f"Timecode {text!r} is not HH:MM:SS:FF.mmm.")
    try:
        h, m, s, frame = int(parts[0]), int(parts[1]), int(parts[2]), float(parts[3])
    except ValueError:
        raise ExportError(f"Timecode {text!r} is not HH:MM:SS:FF.mmm.") from None
    # a time of day: out-of-range fields (or inf/nan frames) would make absurd grids below
    if not (0 <= h < 24 and 0 <= m < 60 and 0 <= s < 60 and 0 <= frame < 1000):
        raise ExportError(f"Timecode {text!r} is out of range (HH < 24, MM and SS < 60, frame < 1000).")
    return h, m, s, frame


def to_csv_text(blendshapes: FrameCurves) -> str:
    fps = blendshapes.fps
    by_lower = {c.lower(): i for i, c in enumerate(blendshapes.channels)}
    unknown = sorted(set(by_lower) - {c.lower() for c in LIVELINK_BLENDSHAPES})
    if unknown:
        raise ExportError(f"Blendshape channel(s) {unknown} are not ARKit blendshapes; Live Link Face cannot hold them.")
    cols = [by_lower.get(c.lower()) for c in LIVELINK_BLENDSHAPES]
    values = blendshapes.values.astype(np.float64)
    first = int(round(blendshapes.start * fps))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HEADER)
    zero_rot = ["0.00000000"] * len(LIVELINK_ROTATIONS)
    for i in range(values.shape[0]):
        row = [f"{values[i, c]:.8f}" if c is not None else "0.00000000" for c in cols]
        writer.writerow([timecode(first + i, fps), str(BLENDSHAPE_COUNT), *row, *zero_rot])
    return buf.getvalue()


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
    animation = parts.need_animation("livelink")
    return atomic_write_text(path, to_csv_text(animation.blendshapes), overwrite=overwrite)


def _infer_fps(frames: np.ndarray) -> float:
    # The timecode's frame field wraps at the capture rate: the smallest usual rate above its maximum.
    top = int(np.floor(frames.max())) + 1
    for fps in SUPPORTED_FPS:
        if fps >= top:
            return fps
    return float(top)


def read_livelink_csv(path: str | os.PathLike, *, fps: float | None = None, include_rotations: bool = False) -> FrameCurves:
    """A Live Link Face take as blendshape curves on a regular grid at ``fps``.

    ``fps``: the app's capture rate. When not given it is inferred from the timecode's frame field
    (needs a take of at least one second; shorter takes assume the app default, 60).
    Rows are placed at their timecode and linearly resampled onto frames ``0, 1/fps, ...`` from the first
    row, so dropped or duplicated frames in the capture do not shift the curves.
    """
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except OSError as exc:
        raise ExportError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path} is not a UTF-8 CSV file ({exc}); export the take from Live Link Face again.") from None
    if len(rows) < 2:
        raise ExportError(f"{path}: a Live Link Face CSV needs the header and at least one frame.")
    header = [h.strip() for h in rows[0]]
    if header[:2] != ["Timecode", "BlendShapeCount"]:
        raise ExportError(f"{path}: not a Live Link Face CSV (the header must start with Timecode,BlendShapeCount).")
    lower = {h.lower(): i for i, h in enumerate(header)}
    missing = [c for c in LIVELINK_BLENDSHAPES if c.lower() not in lower]
    if missing:
        raise ExportError(f"{path}: missing blendshape column(s) {missing[:5]}{'...' if len(missing) > 5 else ''}.")
    names = list(ARKIT_52) + [c for c in LIVELINK_ROTATIONS if include_rotations and c.lower() in lower]
    idx = [lower[_COLUMN_OF.get(n, n).lower()] for n in names]
    stamps = []
    values = []
    for n, row in enumerate(rows[1:], 2):
        if len(row) != len(header):
            raise ExportError(f"{path}:{n}: {len(row)} cells, the header has {len(header)}.")
        stamps.append(parse_timecode(row[0]))
        try:
            values.append([float(row[i]) for i in idx])
        except ValueError as exc:
            raise ExportError(f"{path}:{n}: a blendshape value is not a number ({exc}).") from None
    frames_field = np.array([s[3] for s in stamps])
    seconds = np.array([h * 3600 + m * 60 + s for h, m, s, _ in stamps], dtype=np.float64)
    if fps is None:
        fps = _infer_fps(frames_field) if seconds.max() - seconds.min() >= 1 else DEFAULT_FPS
    fps = check_fps(fps)
    times = np.array([timecode_frame(h, m, s, f, fps) for h, m, s, f in stamps]) / fps
    times = np.where(times < times[0], times + 86400.0, times)  # a take recorded across midnight
    times -= times[0]
    order = np.argsort(times, kind="stable")
    times, table = times[order], np.asarray(values, dtype=np.float64)[order]
    if not times[-1] <= MAX_DURATION_S:  # the grid below is allocated from the timecodes' span
        raise ExportError(f"{path}: the timecodes span {times[-1]:.0f} s, more than {MAX_DURATION_S / 3600:g} h; "
                          "check the Timecode column (or split the take).")
    n_frames = int(round(times[-1] * fps)) + 1
    grid = np.arange(n_frames) / fps
    resampled = np.stack([np.interp(grid, times, table[:, j]) for j in range(table.shape[1])], axis=1)
    return FrameCurves(fps, tuple(names), resampled, 0.0, {"source": path.name, "format": "livelink"})
