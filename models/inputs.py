"""Alignment -> model input arrays (numpy, host side), padding and length buckets.

Everything a frame's input depends on is known once the phones *starting* at or before the frame's
time are known: its own phone (id, features, tone/stress, start and end) and the end of the previous
phone. Future context comes only through the first layer's attention lookahead, which keeps
streaming exact (see :mod:`visemes.models.streaming`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from visemes.core.curves import check_fps, frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Interval

from visemes.models.features import N_FEATURES, phone_features
from visemes.models.vocab import Vocab, stress_id, tone_id

N_POS = 6          # per-frame position features, see ``frame_positions``
N_AUDIO = 3        # loudness, pitch, presence flag
FRAME_BUCKETS: tuple[int, ...] = (64, 128, 192, 256, 320, 384, 512, 768, 1024)
PHONE_BUCKETS: tuple[int, ...] = (32, 128, 512)  # coarse: fewer compiled shapes
#: Gaps and durations are clipped here (seconds): longer ones look the same to the model.
MAX_SPAN_S = 1.0


@dataclass(frozen=True, eq=False)
class UtteranceInputs:
    """Unpadded arrays for one utterance (P phones, T frames)."""

    phone_ids: np.ndarray      # int32[P]
    phone_feats: np.ndarray    # float32[P, N_FEATURES]
    tones: np.ndarray          # int32[P]
    stress: np.ndarray         # int32[P]
    frame_phone: np.ndarray    # int32[T], -1 in silence
    frame_pos: np.ndarray      # float32[T, N_POS]
    frame_time: np.ndarray     # float32[T] seconds
    audio: np.ndarray          # float32[T, N_AUDIO]
    lang: int
    dialect: int

    @property
    def n_frames(self) -> int:
        return int(self.frame_phone.shape[0])

    @property
    def n_phones(self) -> int:
        return int(self.phone_ids.shape[0])


def phone_arrays(phones: Sequence[Interval], vocab: Vocab) -> tuple[np.ndarray, ...]:
    ids = np.array([vocab.phone_id(p.label) for p in phones], np.int32)
    feats = (
        np.stack([phone_features(p.label) for p in phones]).astype(np.float32)
        if phones else np.zeros((0, N_FEATURES), np.float32)
    )
    tones = np.array([tone_id(p.attrs.get("tone")) for p in phones], np.int32)
    stress = np.array([stress_id(p.attrs.get("stress")) for p in phones], np.int32)
    return ids, feats, tones, stress


def frame_positions(starts: np.ndarray, ends: np.ndarray, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the phone under each frame (-1 in gaps) and the position features:

    0 inside-a-phone flag, 1 relative position in the phone, 2 phone duration, 3 time since the phone
    started, 4 time until it ends, 5 time since the previous phone ended (for a frame in a phone: the
    gap before that phone). Spans are clipped to ``MAX_SPAN_S``.
    """
    t = times.astype(np.float64)
    n = len(starts)
    idx = np.searchsorted(starts, t, side="right") - 1  # last phone starting at or before t
    j = np.maximum(idx, 0)
    inside = (idx >= 0) & (t < (ends[j] if n else np.zeros_like(t)))
    phone = np.where(inside, idx, -1).astype(np.int32)
    pos = np.zeros((len(t), N_POS), np.float32)
    if n == 0:
        pos[:, 5] = MAX_SPAN_S
        return phone, pos
    dur = ends[j] - starts[j]
    since = t - starts[j]
    pos[:, 0] = inside
    pos[:, 1] = np.where(inside, since / np.maximum(dur, 1e-6), 0.0)
    pos[:, 2] = np.where(inside, np.minimum(dur, MAX_SPAN_S), 0.0)
    pos[:, 3] = np.where(inside, np.minimum(since, MAX_SPAN_S), 0.0)
    pos[:, 4] = np.where(inside, np.minimum(ends[j] - t, MAX_SPAN_S), 0.0)
    # previous phone end: inside phone i -> end of phone i-1 (gap before i); in a gap after phone i -> its end
    prev_idx = np.where(inside, idx - 1, idx)
    prev_end = np.where(prev_idx >= 0, ends[np.maximum(prev_idx, 0)], -np.inf)
    ref = np.where(inside, starts[j], t)
    pos[:, 5] = np.minimum(ref - prev_end, MAX_SPAN_S)
    return phone, pos


def encode_frames(
    phones: Sequence[Interval],
    vocab: Vocab,
    times: np.ndarray,
    lang_ids: tuple[int, int],
    audio_features: np.ndarray | None = None,
) -> UtteranceInputs:
    """Model inputs for the frames at ``times`` (seconds) given the timed ``phones``."""
    T = len(times)
    starts = np.array([p.start for p in phones], np.float64)
    ends = np.array([p.end for p in phones], np.float64)
    frame_phone, pos = frame_positions(starts, ends, np.asarray(times, np.float64))
    ids, feats, tones, stress = phone_arrays(phones, vocab)
    if audio_features is None:
        audio = np.zeros((T, N_AUDIO), np.float32)
    else:
        audio = np.asarray(audio_features, np.float32)
        if audio.shape != (T, N_AUDIO - 1):
            raise InputError(f"Audio features must have shape ({T}, {N_AUDIO - 1}), got {audio.shape}.")
        audio = np.concatenate([audio, np.ones((T, 1), np.float32)], axis=1)
    return UtteranceInputs(ids, feats, tones, stress, frame_phone, pos, np.asarray(times, np.float32), audio,
                           lang_ids[0], lang_ids[1])


def encode(
    alignment: Alignment,
    vocab: Vocab,
    fps: float,
    *,
    lang: str | None = None,
    audio_features: np.ndarray | None = None,
    n_frames: int | None = None,
) -> UtteranceInputs:
    """Model inputs for ``alignment`` at ``fps`` (frame i at i/fps seconds)."""
    fps = check_fps(fps)
    if not alignment.has_tier("phones"):
        raise InputError("The alignment has no 'phones' tier; align or phonemize the text first.")
    T = frame_count(alignment.duration, fps) if n_frames is None else int(n_frames)
    times = np.arange(T, dtype=np.float64) / fps
    lang_ids = vocab.lang_ids(lang if lang is not None else alignment.lang)
    return encode_frames(list(alignment.phones), vocab, times, lang_ids, audio_features)


def window(u: UtteranceInputs, start: int, stop: int) -> UtteranceInputs:
    """Frames [start, stop) of ``u`` with only the phones they reference (times stay absolute)."""
    fp = u.frame_phone[start:stop]
    used = np.unique(fp[fp >= 0])
    remap = np.full(max(u.n_phones, 1), -1, np.int32)
    remap[used] = np.arange(len(used), dtype=np.int32)
    new_fp = np.where(fp >= 0, remap[np.maximum(fp, 0)], -1).astype(np.int32)
    return UtteranceInputs(
        u.phone_ids[used], u.phone_feats[used], u.tones[used], u.stress[used], new_fp,
        u.frame_pos[start:stop], u.frame_time[start:stop], u.audio[start:stop], u.lang, u.dialect,
    )


def bucket(n: int, buckets: Sequence[int]) -> int:
    for b in buckets:
        if n <= b:
            return b
    return int(-(-n // buckets[-1]) * buckets[-1])


def batch_layout(batch_size: int, n_frames: int, n_phones: int) -> dict[str, tuple[tuple[int, ...], type]]:
    """The model's batch: name -> (shape, dtype) for ``batch_size`` utterances padded to ``n_frames``
    frames and ``n_phones`` phones. The one definition :func:`collate` fills and the compiled
    (``VisemeModel.compile``) and exported (``visemes.models.export``) functions take."""
    B, T, P = batch_size, n_frames, n_phones
    return {
        "phone_ids": ((B, P), np.int32), "phone_feats": ((B, P, N_FEATURES), np.float32),
        "tones": ((B, P), np.int32), "stress": ((B, P), np.int32), "frame_phone": ((B, T), np.int32),
        "frame_pos": ((B, T, N_POS), np.float32), "frame_time": ((B, T), np.float32),
        "audio": ((B, T, N_AUDIO), np.float32), "frame_mask": ((B, T), np.bool_),
        "lang": ((B,), np.int32), "dialect": ((B,), np.int32),
    }


def collate(items: Sequence[UtteranceInputs], n_frames: int | None = None, n_phones: int | None = None) -> dict[str, np.ndarray]:
    """Pad a batch to bucketed lengths; adds ``frame_mask``. Padded frames continue the time axis."""
    T = n_frames or bucket(max(u.n_frames for u in items), FRAME_BUCKETS)
    P = n_phones or bucket(max(max(u.n_phones for u in items), 1), PHONE_BUCKETS)
    out = {k: np.zeros(shape, dtype) for k, (shape, dtype) in batch_layout(len(items), T, P).items()}
    out["frame_phone"][:] = -1  # silence
    for b, u in enumerate(items):
        p, t = u.n_phones, u.n_frames
        if t > T or p > P:
            raise InputError(f"Utterance of {t} frames / {p} phones does not fit the bucket ({T}, {P}).")
        out["phone_ids"][b, :p] = u.phone_ids
        out["phone_feats"][b, :p] = u.phone_feats
        out["tones"][b, :p] = u.tones
        out["stress"][b, :p] = u.stress
        out["frame_phone"][b, :t] = u.frame_phone
        out["frame_pos"][b, :t] = u.frame_pos
        step = (u.frame_time[1] - u.frame_time[0]) if t > 1 else 1.0 / 30
        start = u.frame_time[0] if t else 0.0
        out["frame_time"][b] = start + np.arange(T, dtype=np.float32) * step
        out["frame_time"][b, :t] = u.frame_time
        out["audio"][b, :t] = u.audio
        out["frame_mask"][b, :t] = True
        out["lang"][b] = u.lang
        out["dialect"][b] = u.dialect
    return out
