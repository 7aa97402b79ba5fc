"""Per-boundary-type time offsets (a handful of constants measured once on tuning languages).

Annotators place boundaries by convention (e.g. a word-initial stop starts at its burst, not at the
silent closure); a frame-based HMM cannot know the convention, so a constant per coarse boundary
type moves each boundary. Types are "<left group>><right group>", ``#`` = silence or the edge.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from visemes.alignment.builtin.phones import VOWEL_CLASSES, broad_class
from visemes.core.errors import ModelError

FORMAT_VERSION = 1
_GROUP = {
    "stop_voiceless": "S", "stop_voiced": "S", "affricate": "S",
    "fricative_voiceless": "F", "fricative_voiced": "F", "sibilant": "F",
    "nasal": "N", "liquid": "L", "glide": "L", "glottal": "L", "other": "L",
}
MIN_PHONE = 0.002


def group(symbol: str) -> str:
    cls = broad_class(symbol)
    return "V" if cls in VOWEL_CLASSES else _GROUP.get(cls, "L")


def boundary_types(symbols: Sequence[str], starts: np.ndarray, ends: np.ndarray) -> tuple[list[str], list[str]]:
    """Type of each phone's start and end boundary (frames tell where silence separates phones)."""
    g = [group(s) for s in symbols]
    n = len(symbols)
    start_t, end_t = [], []
    for i in range(n):
        left = g[i - 1] if i > 0 and ends[i - 1] == starts[i] else "#"
        start_t.append(f"{left}>{g[i]}")
        right = g[i + 1] if i + 1 < n and starts[i + 1] == ends[i] else "#"
        end_t.append(f"{g[i]}>{right}")
    return start_t, end_t


@dataclass(frozen=True)
class Calibration:
    offsets: Mapping[str, float]  # seconds added to boundaries of that type

    def apply(self, symbols, starts, ends, t_start, t_end, duration):
        if not self.offsets:
            return t_start, t_end
        st, et = boundary_types(symbols, starts, ends)
        t_start = t_start + np.array([self.offsets.get(k, 0.0) for k in st])
        t_end = t_end + np.array([self.offsets.get(k, 0.0) for k in et])
        # shared boundaries move together (same type string both sides); keep order and durations
        n = len(symbols)
        for i in range(n):
            if i + 1 < n and ends[i] == starts[i + 1]:
                t_end[i] = t_start[i + 1]
        t_start = np.clip(t_start, 0.0, duration)
        t_end = np.clip(t_end, 0.0, duration)
        for i in range(n):
            lo = t_end[i - 1] if i > 0 else 0.0
            t_start[i] = max(t_start[i], lo)
            t_end[i] = max(t_end[i], t_start[i] + MIN_PHONE)
        if t_end[-1] > duration:  # squeeze back from the end when the last phone ran over
            t_end[-1] = duration
            for i in range(n - 1, -1, -1):
                t_start[i] = min(t_start[i], t_end[i] - MIN_PHONE)
                if i > 0:
                    t_end[i - 1] = min(t_end[i - 1], t_start[i])
        return t_start, t_end



#: Boundary conventions: "phonetic" = human phoneticians' placement (measured on the tuning languages
#: of a manually corrected corpus); "espeak" = espeak-ng's phoneme-event times (measured on synthetic
#: speech of the prior's languages), e.g. espeak starts a stop after part of its closure.
CONVENTIONS = ("phonetic", "espeak", "none")


def calibration_json(by_convention: Mapping[str, Mapping[str, float]], sources: Mapping[str, str]) -> str:
    return json.dumps({"format": "visemes.aligner_calibration", "format_version": FORMAT_VERSION,
                       "offsets": {c: dict(sorted(o.items())) for c, o in sorted(by_convention.items())},
                       "sources": dict(sources)}, indent=1, ensure_ascii=False)


def read_calibration_file() -> dict:
    try:
        text = resources.files("visemes.alignment.builtin").joinpath("data/calibration.json").read_text("utf-8")
    except FileNotFoundError:
        return {"offsets": {}, "sources": {}}
    data = json.loads(text)
    if data.get("format_version") != FORMAT_VERSION:
        raise ModelError("alignment/builtin/data/calibration.json has an unsupported format_version; reinstall visemes.")
    return data


def load_calibration(convention: str = "phonetic") -> Calibration:
    if convention not in CONVENTIONS:
        raise ModelError(f"Unknown boundary convention {convention!r}; use one of {', '.join(CONVENTIONS)}.")
    offsets = read_calibration_file()["offsets"].get(convention, {})
    return Calibration({str(k): float(v) for k, v in offsets.items()})
