"""Per-frame curves: named channels sampled at a fixed frame rate.

One container serves articulatory parameters, ARKit blendshape weights and viseme weights, so every
exporter, plotter and model speaks the same type. Frame ``i`` is the mouth pose at time
``start + i / fps`` (frame centres are not used: animation tools key poses at frame times).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from visemes.core.errors import InputError, closest_matches

SUPPORTED_FPS = (24.0, 25.0, 30.0, 50.0, 60.0)


def check_fps(fps: float) -> float:
    if isinstance(fps, bool) or not isinstance(fps, (int, float, np.integer, np.floating)):
        raise InputError(f"Frame rate must be a number of frames per second (e.g. 30), got {fps!r}.")
    fps = float(fps)
    if not (np.isfinite(fps) and 1.0 <= fps <= 1000.0):
        raise InputError(f"Frame rate must be between 1 and 1000 fps (usually one of 24/25/30/50/60), got {fps}.")
    return fps


def frame_count(duration: float, fps: float) -> int:
    """Frames needed to cover ``duration`` seconds, including the frame at t=0 and one at/after the end."""
    return int(np.floor(duration * fps + 1e-9)) + 1


@dataclass(frozen=True, eq=False)
class FrameCurves:
    """``values[frame, channel]`` for ``channels`` at ``fps``; immutable (the array is read-only)."""

    fps: float
    channels: tuple[str, ...]
    values: np.ndarray
    start: float = 0.0
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fps = check_fps(self.fps)
        channels = tuple(self.channels)
        if len(set(channels)) != len(channels):
            raise InputError(f"Curve channel names must be unique, got {channels}.")
        with np.errstate(over="ignore"):  # too large for float32 becomes inf, refused just below
            values = np.array(self.values, dtype=np.float32, copy=True)
        if values.ndim != 2 or values.shape[1] != len(channels):
            raise InputError(
                f"Curve values must have shape (frames, {len(channels)}), got {values.shape}."
            )
        if not np.all(np.isfinite(values)):
            raise InputError("Curve values contain NaN or infinity.")
        values.setflags(write=False)
        object.__setattr__(self, "fps", fps)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta or {})))

    def __reduce__(self):  # mappingproxy meta cannot be pickled; worker pipes need these objects
        return (FrameCurves, (self.fps, self.channels, self.values, self.start, dict(self.meta)))

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    @property
    def times(self) -> np.ndarray:
        return self.start + np.arange(self.n_frames) / self.fps

    @property
    def duration(self) -> float:
        return self.n_frames / self.fps

    def resolve(self, names: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
        """The channels as named here for user-typed ``names`` (a list or "a,b"): exact, else
        case-insensitive (``JawOpen`` -> ``jawOpen``); unknown names are refused with suggestions."""
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        lower: dict[str, list[str]] = {}
        for c in self.channels:
            lower.setdefault(c.lower(), []).append(c)
        out, unknown = [], []
        for n in names:
            if n in self.channels:
                out.append(n)
            elif len(lower.get(n.lower(), [])) == 1:
                out.append(lower[n.lower()][0])
            else:
                unknown.append(n)
        if unknown:
            hints = {h for n in unknown for h in closest_matches(n, self.channels, 3)}
            hint = f" Did you mean {', '.join(sorted(hints))}?" if hints else ""
            what = f"channel {unknown[0]!r}" if len(unknown) == 1 else f"channels {unknown}"
            raise InputError(f"No curve {what}.{hint} The curves have {list(self.channels)}.")
        return tuple(out)

    def channel(self, name: str) -> np.ndarray:
        return self.values[:, self.channels.index(self.resolve([name])[0])]

    def as_dict(self) -> dict[str, np.ndarray]:
        return {c: self.values[:, i] for i, c in enumerate(self.channels)}

    def select(self, names: tuple[str, ...] | list[str]) -> "FrameCurves":
        names = self.resolve(list(names))
        idx = [self.channels.index(n) for n in names]
        return FrameCurves(self.fps, tuple(names), self.values[:, idx], self.start, self.meta)

    def to_dict(self) -> dict[str, Any]:
        return {
            "fps": self.fps,
            "start": self.start,
            "channels": list(self.channels),
            "values": np.round(self.values.astype(np.float64), 5).tolist(),
            "meta": dict(self.meta),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "FrameCurves":
        values = np.asarray(data["values"], dtype=np.float32).reshape(-1, len(data["channels"]))
        return cls(float(data["fps"]), tuple(data["channels"]), values, float(data.get("start", 0.0)), data.get("meta") or {})

    def allclose(self, other: "FrameCurves", atol: float = 1e-4) -> bool:
        return (
            self.channels == other.channels
            and self.values.shape == other.values.shape
            and abs(self.fps - other.fps) < 1e-9
            and bool(np.allclose(self.values, other.values, atol=atol))
        )


@dataclass(frozen=True)
class MouthAnimation:
    """Everything per frame for one utterance: articulation, ARKit blendshapes, viseme weights."""

    articulation: FrameCurves
    blendshapes: FrameCurves
    visemes: FrameCurves
    source: str = "coarticulation"  # or "model:<fingerprint>"

    def __post_init__(self) -> None:
        n = {self.articulation.n_frames, self.blendshapes.n_frames, self.visemes.n_frames}
        fps = {self.articulation.fps, self.blendshapes.fps, self.visemes.fps}
        if len(n) != 1 or len(fps) != 1:
            raise InputError("Articulation, blendshape and viseme curves must share frame count and fps.")

    @property
    def fps(self) -> float:
        return self.articulation.fps

    @property
    def n_frames(self) -> int:
        return self.articulation.n_frames
