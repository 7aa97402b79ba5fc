"""Vocal effort from the audio: loudness scales the jaw, long silence brings the mouth to rest.

Louder speech is produced with a more open jaw (Schulman 1989, "Articulatory dynamics of loud and
normal speech"; JALI, Edwards et al. 2016, drives its jaw activation from the same loudness), and in a
silent stretch the mouth does not keep talking even where the timings say otherwise. Both are cheap
functions of the short-time RMS, computed here with numpy (cumulative sums: O(samples)).

* :func:`frame_rms` -- RMS over a ``window`` centred on every frame time;
* :func:`effort_gain` -- per frame, ``(rms / reference) ** exponent`` clipped to ``[low, high]``, where
  the reference is the median RMS of the speech frames (those within ``speech_db`` of the loudest);
  smoothed over ``smooth`` seconds so stop closures (short, quiet by nature) do not dip the jaw;
* :func:`silence_mask` -- frames inside a stretch at least ``min_silence`` long whose RMS stays
  ``silence_db`` below the reference; a smooth 0..1 weight with ``ramp``-second edges.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from visemes.core.errors import InputError


@dataclass(frozen=True)
class EffortParams:
    """Constants of the audio modulation (seconds, decibels)."""

    #: jaw displacement scales with (rms / reference) ** exponent (0 turns loudness off)
    exponent: float = 0.2
    low: float = 0.7
    high: float = 1.4
    window: float = 0.03
    smooth: float = 0.08
    #: speech frames: within this many dB of the loudest frame (the reference is their median RMS)
    speech_db: float = 35.0
    #: silence: this far below the reference, for at least min_silence (0 turns it off)
    silence_db: float = 30.0
    min_silence: float = 0.2
    ramp: float = 0.05

    def __post_init__(self) -> None:
        for name in ("exponent", "smooth", "min_silence", "ramp"):
            if not float(getattr(self, name)) >= 0:
                raise InputError(f"EffortParams.{name} must be >= 0, got {getattr(self, name)}.")
        if not 0 < self.low <= 1.0 <= self.high or not self.window > 0:
            raise InputError("EffortParams: need 0 < low <= 1 <= high and a positive window.")


def _moving_mean(x: np.ndarray, centres: np.ndarray, half: int) -> np.ndarray:
    csum = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    lo = np.clip(centres - half, 0, len(x))
    hi = np.clip(centres + half + 1, 0, len(x))
    return (csum[hi] - csum[lo]) / np.maximum(hi - lo, 1)


def frame_rms(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int, window: float = 0.03) -> np.ndarray:
    """RMS of ``audio`` over ``window`` seconds centred on each frame time ``i / fps``."""
    x = np.asarray(audio, dtype=np.float64)
    if x.ndim != 1 or not int(sample_rate) > 0:
        raise InputError("Audio for the effort modulation must be mono samples with a positive sample rate.")
    centres = np.rint(np.arange(n_frames) / float(fps) * sample_rate).astype(np.int64)
    return np.sqrt(np.maximum(_moving_mean(x * x, centres, max(1, int(window * sample_rate / 2))), 0.0))


def _smooth(y: np.ndarray, frames: int) -> np.ndarray:
    if frames <= 1:
        return y
    return _moving_mean(y, np.arange(len(y)), frames // 2)


def _reference(rms: np.ndarray, speech_db: float) -> float:
    top = float(rms.max())
    if top <= 0:
        return 0.0
    speech = rms[rms >= top * 10 ** (-speech_db / 20)]
    return float(np.median(speech))


def effort_gain(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int, prm: EffortParams = EffortParams()) -> np.ndarray:
    """Per-frame factor on the jaw's opening (1 = the utterance's typical loudness)."""
    rms = frame_rms(audio, sample_rate, fps, n_frames, prm.window)
    ref = _reference(rms, prm.speech_db)
    if ref <= 0 or prm.exponent == 0:
        return np.ones(n_frames)
    floor = ref * 10 ** (-prm.silence_db / 20)  # below this, loudness says nothing about the jaw
    gain = (np.maximum(rms, floor) / ref) ** prm.exponent
    gain = _smooth(gain, int(round(prm.smooth * fps)))
    return np.clip(gain, prm.low, prm.high)


def silence_mask(audio: np.ndarray, sample_rate: int, fps: float, n_frames: int, prm: EffortParams = EffortParams()) -> np.ndarray:
    """Per-frame 0..1: how far a frame lies inside a long silent stretch (1 = at rest)."""
    out = np.zeros(n_frames)
    if prm.min_silence == 0:
        return out
    rms = frame_rms(audio, sample_rate, fps, n_frames, prm.window)
    ref = _reference(rms, prm.speech_db)
    if ref <= 0:
        return np.ones(n_frames)  # digital silence throughout
    quiet = rms < ref * 10 ** (-prm.silence_db / 20)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], quiet.astype(np.int8), [0]])))
    ramp = max(1.0, prm.ramp * fps)
    for a, b in zip(edges[::2], edges[1::2]):
        if (b - a) / fps < prm.min_silence:
            continue
        k = np.arange(a, b)
        # inside the stretch, rising over `ramp` frames from each edge (speech on either side stays free)
        depth = np.minimum(k - a + 1, b - k) / ramp
        out[a:b] = np.clip(depth, 0.0, 1.0)
    x = out
    return x * x * (3.0 - 2.0 * x)
