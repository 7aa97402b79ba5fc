"""Per-frame curves as CSV: ``frame,time,<channel>...`` (and a reader for any such file).

With every group, channel columns are prefixed by the group (``articulation.jaw_open``,
``blendshapes.jawOpen``, ``visemes.sil``); with one chosen group they are bare (``jaw_open``). Frames
are numbered from 0; ``time`` is seconds with 6 decimals; values have 6 decimals.

:func:`read_curves_csv` reads any per-frame CSV with a ``time`` and/or ``frame`` column and numeric
channel columns (ours, or a generic one from another tool) into :class:`FrameCurves`, optionally picking
channels by name list, so training code can load curves it did not write.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from visemes.core.atomic import atomic_write_text
from visemes.core.curves import SUPPORTED_FPS, FrameCurves, MouthAnimation, check_fps
from visemes.core.errors import ExportError, InputError
from visemes.formats.parts import ExportParts

GROUPS: tuple[str, ...] = ("articulation", "blendshapes", "visemes")
SEPARATOR = "."


def _groups_of(animation: MouthAnimation, group: str | None) -> list[tuple[str, FrameCurves]]:
    if group is None:
        return [(g, getattr(animation, g)) for g in GROUPS]
    if group not in GROUPS:
        raise InputError(f"Unknown curve group {group!r}; choose one of {', '.join(GROUPS)} (or none for all).")
    return [(group, getattr(animation, group))]


def to_csv_text(animation: MouthAnimation, group: str | None = None) -> str:
    groups = _groups_of(animation, group)
    prefix = group is None
    header = ["frame", "time"] + [
        f"{g}{SEPARATOR}{c}" if prefix else c for g, curves in groups for c in curves.channels
    ]
    values = np.concatenate([curves.values for _, curves in groups], axis=1)
    return frame_table_text(header, animation.articulation.times, values)


def frame_table_text(header: Sequence[str], times: np.ndarray, values: np.ndarray) -> str:
    """CSV text of ``header`` then one row per frame: index, time and values, 6 decimals each."""
    values = np.asarray(values, dtype=np.float64)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for i in range(values.shape[0]):
        writer.writerow([str(i), f"{times[i]:.6f}", *(f"{v:.6f}" for v in values[i])])
    return buf.getvalue()


def write(parts: ExportParts, path: str | os.PathLike, *, overwrite: bool = False, group: str | None = None) -> Path:
    animation = parts.need_animation("csv")
    return atomic_write_text(path, to_csv_text(animation, group), overwrite=overwrite)


#: Rates a time column is snapped to when its printed precision cannot tell them apart.
COMMON_FPS: tuple[float, ...] = tuple(sorted({*SUPPORTED_FPS, 23.976, 29.97, 48.0, 59.94, 100.0, 120.0}))


def _estimate_fps(times: np.ndarray, frames: np.ndarray | None, quantum: float) -> float:
    """Frame rate from the first and last rows (robust to rounding, unlike neighbouring differences),
    snapped to a common rate when the printed precision (``quantum`` seconds) cannot exclude it."""
    span = float(times[-1] - times[0])
    steps = float(frames[-1] - frames[0]) if frames is not None else float(len(times) - 1)
    if frames is None and round(span / float(np.median(np.diff(times)))) != len(times) - 1:
        raise ValueError("rows are missing or repeated")
    estimate = steps / span
    tolerance = max(1e-6, 1.01 * quantum / span) * estimate  # worst case of two rounded times
    close = [f for f in COMMON_FPS if abs(estimate - f) <= tolerance]
    if close:
        return min(close, key=lambda f: abs(estimate - f))
    return round(estimate, 6)


def _quantum(cells: list[str]) -> float:
    decimals = max((len(c.strip().split(".", 1)[1]) if "." in c else 0) for c in cells)
    return 0.5 * 10.0 ** (-decimals)


def _read_table(path: Path) -> tuple[list[str], np.ndarray, list[list[str]]]:
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = [r for r in csv.reader(fh) if r and any(cell.strip() for cell in r)]
    except OSError as exc:
        raise ExportError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path} is not a UTF-8 CSV file ({exc}); save it as UTF-8 CSV.") from None
    if len(rows) < 2:
        raise ExportError(f"{path}: a curves CSV needs a header row and at least one frame.")
    header = [h.strip() for h in rows[0]]
    try:
        table = np.array([[float(cell) for cell in row] for row in rows[1:]], dtype=np.float64)
    except ValueError as exc:
        raise ExportError(f"{path}: every cell after the header must be a number ({exc}).") from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise ExportError(f"{path}: every row must have {len(header)} cells, like the header.")
    return header, table, rows[1:]


def read_curves_csv(
    path: str | os.PathLike,
    names: Sequence[str] | None = None,
    *,
    fps: float | None = None,
    group: str | None = None,
) -> FrameCurves:
    """Per-frame curves from a CSV file.

    ``group``: keep only columns ``<group>.<name>`` (prefix stripped), as in our all-groups CSV.
    ``names``: the channels to return, in this order (missing ones are an error naming them).
    ``fps``: needed only when the file has a ``frame`` column and no ``time``; otherwise estimated from
    the times (and checked against ``fps`` when both are given).
    """
    path = Path(path)
    header, table, raw = _read_table(path)
    lowered = [h.lower() for h in header]
    time_col = lowered.index("time") if "time" in lowered else None
    frame_col = lowered.index("frame") if "frame" in lowered else None
    channel_cols = [i for i in range(len(header)) if i not in (time_col, frame_col)]
    channels = [header[i] for i in channel_cols]
    if group is not None:
        marker = f"{group}{SEPARATOR}"
        picked = [(i, h[len(marker):]) for i, h in zip(channel_cols, channels) if h.startswith(marker)]
        if not picked:
            raise ExportError(f"{path}: no column starts with {marker!r}; columns are {channels}.")
        channel_cols, channels = [i for i, _ in picked], [n for _, n in picked]
    if names is not None:
        missing = [n for n in names if n not in channels]
        if missing:
            raise ExportError(f"{path}: missing channel column(s) {missing}; the file has {channels}.")
        channel_cols = [channel_cols[channels.index(n)] for n in names]
        channels = list(names)
    if not channels:
        raise ExportError(f"{path}: no channel columns besides frame/time.")
    start = 0.0
    if time_col is not None:
        times = table[:, time_col]
        start = float(times[0])
        if len(times) > 1:
            steps = np.diff(times)
            if np.any(steps <= 0):
                raise ExportError(f"{path}: the time column must increase from row to row.")
            frames = table[:, frame_col] if frame_col is not None else None
            try:
                estimate = _estimate_fps(times, frames, _quantum([row[time_col] for row in raw]))
            except ValueError:
                estimate = -1.0  # reported as uneven spacing below
            if estimate < 0:
                raise ExportError(
                    f"{path}: times are not evenly spaced (a dropped or repeated frame?); resample the "
                    "curves to a regular frame rate first."
                )
            if fps is not None and abs(check_fps(fps) - estimate) > 1e-2 * fps:
                raise ExportError(f"{path}: times advance at {estimate} fps, not the {fps} fps asked for.")
            fps = estimate if fps is None else fps
            # FrameCurves are a regular grid: rows must sit on it (a dropped row would shift all after it).
            drift = np.abs(times - (start + np.arange(len(times)) / fps))
            if float(drift.max()) > 0.5 / fps:
                row = int(np.argmax(drift)) + 2
                raise ExportError(
                    f"{path}:{row}: times are not evenly spaced at {fps} fps (a dropped or repeated frame?); "
                    "resample the curves to a regular frame rate first."
                )
    if fps is None:
        if frame_col is None:
            raise ExportError(f"{path}: give fps= for a file without a time column (or a single row).")
        raise ExportError(f"{path}: the file has frame numbers but no times; pass fps=.")
    if time_col is None and frame_col is not None:
        start = float(table[0, frame_col]) / float(fps)
    try:
        return FrameCurves(float(fps), tuple(channels), table[:, channel_cols], start, {"source": str(path)})
    except InputError as exc:
        raise ExportError(f"{path}: {exc}") from None


def read_animation_csv(path: str | os.PathLike, *, fps: float | None = None) -> MouthAnimation:
    """Our all-groups CSV back to a :class:`MouthAnimation`."""
    parts = [read_curves_csv(path, fps=fps, group=g) for g in GROUPS]
    return MouthAnimation(*parts, source=f"csv:{Path(path).name}")
