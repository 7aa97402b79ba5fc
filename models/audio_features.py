"""The model's per-frame *audio* features: loudness and pitch (optional model inputs). Not the aligner's
acoustic features (MFCCs, ``visemes.alignment.builtin.features``) nor phonological ones (``visemes.lang_packs.features``).

Hand-written (numpy) because the needed pieces are tiny — a framed RMS and a normalised
autocorrelation pitch pick — and no audio-analysis library is a dependency of visemes.
"""

from __future__ import annotations

import numpy as np
import soxr

from visemes.core.errors import AudioError

WINDOW_S = 0.04
F0_MIN, F0_MAX = 60.0, 400.0
TARGET_SR = 16000


FEATURE_BLOCK = 2048  # frames per block: about 60 MB of temporaries


def audio_features(audio: np.ndarray, sample_rate: int, times: np.ndarray) -> np.ndarray:
    """float32[T, 2]: loudness ((dBFS + 60) / 60, clipped to [0, 1.5]) and pitch (log2(f0 / 150), 0 when
    unvoiced), from a 40 ms window centred on each frame time (at most 20 ms of future audio)."""
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 1 or audio.size == 0 or not np.all(np.isfinite(audio)):
        raise AudioError("Audio for features must be a non-empty, finite mono array.")
    if sample_rate != TARGET_SR:
        audio = soxr.resample(audio, sample_rate, TARGET_SR).astype(np.float32)
    sr = TARGET_SR
    half = int(WINDOW_S * sr / 2)
    padded = np.pad(audio, (half, half + 1))
    centres = np.clip(np.round(np.asarray(times) * sr).astype(np.int64), 0, len(audio))
    # blocks of frames keep memory flat on hour-long files (all frames at once needed gigabytes)
    blocks = [_frame_features(padded, centres[i : i + FEATURE_BLOCK], half, sr)
              for i in range(0, len(centres), FEATURE_BLOCK)]
    return np.concatenate(blocks, axis=0) if blocks else np.zeros((0, 2), np.float32)


def _frame_features(padded: np.ndarray, centres: np.ndarray, half: int, sr: int) -> np.ndarray:
    idx = centres[:, None] + np.arange(2 * half)[None, :]
    frames = padded[idx] * np.hanning(2 * half)[None, :].astype(np.float32)
    rms = np.sqrt(np.mean(frames**2, axis=1) + 1e-10)
    loud = np.clip((20 * np.log10(rms) + 60.0) / 60.0, 0.0, 1.5)
    # normalised autocorrelation via FFT; the best lag in the F0 range gives the pitch
    n = 2 * half
    spec = np.fft.rfft(frames, 2 * n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :n]
    ac = ac / np.maximum(ac[:, :1], 1e-10)
    lo, hi = int(sr / F0_MAX), int(sr / F0_MIN)
    lags = lo + np.argmax(ac[:, lo:hi], axis=1)
    peak = ac[np.arange(len(lags)), lags]
    voiced = (peak > 0.45) & (loud > 0.2)
    pitch = np.where(voiced, np.log2(sr / lags / 150.0), 0.0)
    return np.stack([loud, pitch], axis=1).astype(np.float32)
