"""Minimum phone durations: no phone shorter than real speech allows, without reordering boundaries.

The boundary calibration (calibration.py) moves each boundary by a per-type constant, and two
neighbouring offsets can squeeze a phone down to a sliver (before this step every phone under
10 ms was exactly ``calibration.MIN_PHONE``). Here the boundaries are projected onto the nearest
(least squares) positions where every phone is at least its class minimum: a short phone borrows
time from its neighbours and from silence gaps; boundary order and the utterance bounds stay.

The minima, per broad group of ``calibration.group`` (V vowel, S stop/affricate, F fricative,
N nasal, L liquid/glide/glottal), are checked against the hand-corrected VoxAngeles dev data
(2,180 non-silent phones, 12 languages; ms):

    group   n     min   p0.5   p1    p2    median
    V     1066   17.0  28.5  37.1  45.1  132.7
    S      392   20.1  26.2  26.6  32.8  104.1
    F      256    9.2  27.8  34.7  40.1  152.4
    N      188   50.0  50.0  51.7  56.6  104.1
    L      278   16.8  24.4  29.8  30.0   83.9

Each minimum lies below its group's 1st percentile (so it touches at most ~1% of real phones in
these slow, isolated words), rounded down to 5 ms (one aligner frame) and capped at 30 ms for
vowels and 20 ms for consonants: connected speech is faster than citation forms (taps, unreleased
stops and reduced vowels are shorter there). The floor when a stretch is too short for the minima
is :data:`FLOOR` (two 5-ms frames); only an utterance shorter than that times its phones goes below.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from visemes.alignment.builtin.calibration import group

#: seconds, per calibration.group (see the module docstring for where the numbers come from)
MIN_DURATION: Mapping[str, float] = {"V": 0.030, "S": 0.020, "F": 0.020, "N": 0.020, "L": 0.020}
FLOOR = 0.010
_SAME = 1e-9  # boundaries closer than this are one shared boundary


def minimum_durations(symbols: Sequence[str]) -> np.ndarray:
    return np.array([MIN_DURATION.get(group(s), FLOOR) for s in symbols], dtype=float)


def _isotonic(y: np.ndarray) -> np.ndarray:
    """Least-squares non-decreasing fit of ``y`` (pool-adjacent-violators, equal weights)."""
    means: list[float] = []
    sizes: list[int] = []
    for v in y:
        means.append(float(v))
        sizes.append(1)
        while len(means) > 1 and means[-2] > means[-1]:
            m, n = means.pop(), sizes.pop()
            means[-1] = (means[-1] * sizes[-1] + m * n) / (sizes[-1] + n)
            sizes[-1] += n
    return np.repeat(means, sizes)


def enforce_min_durations(t_start: np.ndarray, t_end: np.ndarray, minima: np.ndarray,
                          duration: float) -> tuple[np.ndarray, np.ndarray]:
    """Phone starts/ends moved as little as possible (sum of squared moves) so that every phone lasts
    at least ``minima[i]``, boundaries keep their order, shared boundaries stay shared, and all lie in
    ``[0, duration]``. Where the time cannot hold the minima, they shrink in proportion (not below
    :data:`FLOOR` unless the whole utterance is shorter than that times the phone count).

    With boundaries b_k and required gaps c_k (a phone's minimum, 0 across a silence gap), the
    constraints b_{k+1} - b_k >= c_k become "y non-decreasing" for y_k = b_k - sum_{j<k} c_j, so the
    projection is an isotonic regression; the bounds 0 <= b <= duration become constant bounds on y,
    and clipping the isotonic fit to them stays optimal.
    """
    n = len(t_start)
    if n == 0:
        return t_start, t_end
    t_start = np.asarray(t_start, dtype=float)
    t_end = np.asarray(t_end, dtype=float)
    if np.all(t_end - t_start >= minima - 1e-9):
        return t_start, t_end
    # boundaries in time order; phone i spans boundaries start_idx[i] .. end_idx[i]
    bounds: list[float] = []
    start_idx = np.zeros(n, dtype=int)
    end_idx = np.zeros(n, dtype=int)
    for i in range(n):
        if i == 0 or t_start[i] - t_end[i - 1] > _SAME:
            bounds.append(t_start[i])
        start_idx[i] = len(bounds) - 1
        bounds.append(t_end[i])
        end_idx[i] = len(bounds) - 1
    c = np.zeros(len(bounds) - 1)
    need = np.asarray(minima, dtype=float).copy()
    total = float(need.sum())
    if total > duration:  # not enough time for the minima: shrink them alike, keep FLOOR where possible
        need *= duration / total
        floor = min(FLOOR, duration / n)
        need = np.maximum(need, floor)
        need *= min(1.0, duration / float(need.sum()))
    c[start_idx] = need  # the gap after a phone's start boundary is the phone itself
    offset = np.concatenate([[0.0], np.cumsum(c)])
    y = _isotonic(np.asarray(bounds) - offset)
    y = np.clip(y, 0.0, max(duration - offset[-1], 0.0))
    b = y + offset
    return b[start_idx], b[end_idx]


def apply_min_durations(symbols: Sequence[str], t_start: np.ndarray, t_end: np.ndarray,
                        duration: float) -> tuple[np.ndarray, np.ndarray]:
    return enforce_min_durations(t_start, t_end, minimum_durations(symbols), duration)
