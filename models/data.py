"""Training data: examples (model inputs + per-frame targets), safe caching, and the data sources.

Sources:
* the coarticulation teacher (``visemes.mouth.coarticulation.animate_phones``) over espeak-ng synthesis
  (``visemes.speech.synthesis.speak``) of real words (wordfreq lists or pack sentences) at varied speaking rates
  and frame rates — fully offline (see :mod:`visemes.models.teacher`);
* motion capture: Live Link Face CSV (ARKit blendshapes per frame) + audio + transcript, aligned with
  ``visemes.alignment.align``;
* generic per-frame curves (``.npy`` loaded with ``allow_pickle=False``, or CSV with a header of names).

A cache is one ``.npz`` (no pickle: every array is numeric or fixed-width unicode) holding the
concatenated frames/phones of all examples with offsets.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from visemes import alignment as aligners
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.atomic import atomic_open
from visemes.core.curves import MouthAnimation, check_fps, frame_count
from visemes.core.errors import InputError, ModelError
from visemes.core.timeline import Alignment

from visemes.models.audio_features import audio_features
from visemes.models.inputs import UtteranceInputs, encode, window
from visemes.models.vocab import Vocab

DATA_FORMAT_VERSION = 1
_FRAME_KEYS = ("frame_phone", "frame_pos", "frame_time", "audio", "articulation", "blendshapes", "visemes")
_PHONE_KEYS = ("phone_ids", "phone_feats", "tones", "stress")


@dataclass(frozen=True, eq=False)
class Example:
    """One utterance: inputs, targets ([T, 9], [T, K], [T, V]) and which targets are real."""

    inputs: UtteranceInputs
    articulation: np.ndarray
    blendshapes: np.ndarray
    visemes: np.ndarray
    lang: str
    has: tuple[bool, bool, bool] = (True, True, True)  # articulation, blendshapes, visemes
    fps: float = 30.0

    def crop(self, start: int, stop: int) -> "Example":
        return Example(window(self.inputs, start, stop), self.articulation[start:stop],
                       self.blendshapes[start:stop], self.visemes[start:stop], self.lang, self.has, self.fps)


def example_from_animation(alignment: Alignment, anim: MouthAnimation, vocab: Vocab, *, lang: str | None = None,
                           audio_features: np.ndarray | None = None) -> Example:
    lang = lang or alignment.lang or ""
    u = encode(alignment, vocab, anim.fps, lang=lang, audio_features=audio_features, n_frames=anim.n_frames)
    return Example(u, anim.articulation.values, anim.blendshapes.values, anim.visemes.values, lang,
                   (True, True, True), anim.fps)


# --- cache -----------------------------------------------------------------------------------------


def save_examples(path: str | os.PathLike, examples: Sequence[Example], overwrite: bool = False) -> Path:
    """Write examples to one ``.npz`` (numeric and unicode arrays only: loads with allow_pickle=False)."""
    if not examples:
        raise InputError("No examples to save.")
    arrays: dict[str, np.ndarray] = {"format_version": np.array(DATA_FORMAT_VERSION)}
    frames = np.cumsum([0] + [e.inputs.n_frames for e in examples])
    phones = np.cumsum([0] + [e.inputs.n_phones for e in examples])
    arrays["frame_offsets"], arrays["phone_offsets"] = frames, phones
    for key in _FRAME_KEYS + _PHONE_KEYS:
        parts = [getattr(e, key) if key in ("articulation", "blendshapes", "visemes") else getattr(e.inputs, key)
                 for e in examples]
        arrays[key] = np.concatenate(parts, axis=0)
    arrays["lang_id"] = np.array([e.inputs.lang for e in examples], np.int32)
    arrays["dialect_id"] = np.array([e.inputs.dialect for e in examples], np.int32)
    arrays["lang"] = np.array([e.lang for e in examples], dtype="U32")
    arrays["has"] = np.array([e.has for e in examples], bool)
    arrays["fps"] = np.array([e.fps for e in examples], np.float32)
    with atomic_open(path, "wb", overwrite=overwrite) as fh:
        np.savez_compressed(fh, **arrays)
    return Path(path)


def load_examples(path: str | os.PathLike) -> list[Example]:
    try:
        with np.load(path, allow_pickle=False) as z:
            data = {k: z[k] for k in z.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"Cannot read training data {path} ({exc}); regenerate the cache.") from None
    if int(data.get("format_version", -1)) != DATA_FORMAT_VERSION:
        raise ModelError(f"{path}: data format_version is not {DATA_FORMAT_VERSION}; regenerate the cache.")
    fo, po = data["frame_offsets"], data["phone_offsets"]
    out = []
    for i in range(len(fo) - 1):
        f, p = slice(fo[i], fo[i + 1]), slice(po[i], po[i + 1])
        u = UtteranceInputs(
            data["phone_ids"][p], data["phone_feats"][p], data["tones"][p], data["stress"][p],
            data["frame_phone"][f], data["frame_pos"][f], data["frame_time"][f], data["audio"][f],
            int(data["lang_id"][i]), int(data["dialect_id"][i]),
        )
        out.append(Example(u, data["articulation"][f], data["blendshapes"][f], data["visemes"][f],
                           str(data["lang"][i]), tuple(bool(x) for x in data["has"][i]), float(data["fps"][i])))
    return out


# --- motion capture and generic curves ---------------------------------------------------------------


def resample_curves(values: np.ndarray, src_fps: float, dst_fps: float, n_out: int) -> np.ndarray:
    """Linear interpolation of per-frame curves to another frame rate (frame i at i / fps)."""
    src_t = np.arange(len(values)) / src_fps
    dst_t = np.arange(n_out) / dst_fps
    return np.stack([np.interp(dst_t, src_t, values[:, k]) for k in range(values.shape[1])], axis=1).astype(np.float32)


def _timecode_seconds(tc: str, fps: float) -> float:
    """Live Link Face timecodes look like ``HH:MM:SS:FF.sss`` (frame with sub-frame fraction)."""
    parts = tc.strip().split(":")
    if len(parts) != 4:
        raise InputError(f"Unrecognised Live Link Face timecode {tc!r}; expected HH:MM:SS:FF.fff.")
    h, m, s = (int(x) for x in parts[:3])
    return h * 3600 + m * 60 + s + float(parts[3]) / fps


def read_live_link_face(path: str | os.PathLike, fps: float = 60.0) -> tuple[np.ndarray, tuple[str, ...], np.ndarray]:
    """(values[T, K] in [0,1], blendshape names, times from the first frame in seconds)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if len(rows) < 2 or not rows[0] or rows[0][0].strip().lower() != "timecode":
        raise InputError(f"{path} is not a Live Link Face CSV (first column must be 'Timecode').")
    header = [h.strip() for h in rows[0]]
    names = tuple(header[2:]) if len(header) > 1 and header[1].lower() == "blendshapecount" else tuple(header[1:])
    first = len(header) - len(names)
    try:
        times = np.array([_timecode_seconds(r[0], fps) for r in rows[1:] if r])
        values = np.array([[float(x) for x in r[first:first + len(names)]] for r in rows[1:] if r], np.float32)
    except ValueError as exc:
        raise InputError(f"{path}: a value is not a number ({exc}).") from None
    return np.clip(values, 0.0, 1.0), names, times - times[0]


def read_curves(path: str | os.PathLike, names: Sequence[str] | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Generic per-frame curves: ``.npy`` (needs ``names``) or CSV whose header row names the channels."""
    path = Path(path)
    if path.suffix == ".npy":
        values = np.load(path, allow_pickle=False)
        if names is None or values.ndim != 2 or values.shape[1] != len(names):
            raise InputError(f"{path}: a .npy of curves needs a name per column (got shape {values.shape}).")
        return values.astype(np.float32), tuple(names)
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    header = tuple(h.strip() for h in rows[0])
    return np.array([[float(x) for x in r] for r in rows[1:]], np.float32), header


def example_from_curves(alignment: Alignment, values: np.ndarray, names: Sequence[str], src_fps: float,
                        vocab: Vocab, fps: float, blendshape_names: Sequence[str], viseme_classes: Sequence[str],
                        lang: str | None = None, audio_features: np.ndarray | None = None) -> Example:
    """An example whose targets are the given curves: articulation channels (ARTICULATION_PARAMS names)
    and/or ARKit blendshape channels; missing target kinds are masked out of the loss."""
    fps = check_fps(fps)
    u = encode(alignment, vocab, fps, lang=lang, audio_features=audio_features)
    T = u.n_frames
    values = resample_curves(np.asarray(values, np.float32), src_fps, fps, T)
    index = {n: i for i, n in enumerate(names)}
    art = np.zeros((T, len(ARTICULATION_PARAMS)), np.float32)
    bs = np.zeros((T, len(blendshape_names)), np.float32)
    has_art = all(n in index for n in ARTICULATION_PARAMS)
    has_bs = all(n in index for n in blendshape_names)
    if not (has_art or has_bs):
        raise InputError(
            f"Curves must name all articulation parameters {list(ARTICULATION_PARAMS)} or all ARKit mouth "
            f"blendshapes; got {list(names)[:8]}..."
        )
    if has_art:
        art = values[:, [index[n] for n in ARTICULATION_PARAMS]]
    if has_bs:
        bs = values[:, [index[n] for n in blendshape_names]]
    vis = np.zeros((T, len(viseme_classes)), np.float32)
    return Example(u, art, bs, vis, lang or alignment.lang or "", (has_art, has_bs, False), fps)


def live_link_face_example(csv_path: str | os.PathLike, audio_path: str | os.PathLike, transcript: str, lang: str,
                           vocab: Vocab, blendshape_names: Sequence[str], viseme_classes: Sequence[str],
                           fps: float = 30.0, capture_fps: float = 60.0, backend: str = "builtin") -> Example:
    """Motion capture from Live Link Face: align the audio with its transcript (``visemes.alignment.align``) and
    use the recorded ARKit mouth blendshapes as targets."""
    values, names, _ = read_live_link_face(csv_path, capture_fps)
    samples, sr = aligners.load_audio(audio_path)
    timed = aligners.align(samples, sr, text=transcript, lang=lang, backend=backend)
    times = np.arange(frame_count(timed.duration, fps)) / fps
    feats = audio_features(samples, sr, times)
    return example_from_curves(timed, values, names, capture_fps, vocab, fps, blendshape_names, viseme_classes,
                               lang, feats)
