"""Chunked (streaming) prediction with bounded lookahead.

A stream is fed complete phone intervals plus ``known_until``: the time up to which every phone that
*starts* before it has been delivered. A frame at time t is emitted once ``known_until >= t + lookahead``.
Each chunk runs the model on a window reaching ``history`` back and ``lookahead`` ahead; because the
model's receptive field is exactly that (local attention, lookahead only in the first layer, frame
inputs that depend on phones started by the frame's time), emitted frames equal offline prediction up
to float rounding when ``lookahead_s >= model.cfg.lookahead_s``. A smaller lookahead is allowed and gives
an approximation (measured in benchmarks/models.py).
"""

from __future__ import annotations

import math
from typing import Iterable

import jax
import numpy as np

from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import PHONES, Alignment, Interval, Tier
from visemes import lang_packs

from visemes.models.api import VisemeModel
from visemes.models.inputs import FRAME_BUCKETS, MAX_SPAN_S, collate, encode_frames


class StreamingPredictor:
    def __init__(self, model: VisemeModel, fps: float = 30.0, *, lookahead_s: float | None = None,
                 chunk_frames: int = 8, lang: str | None = None, adapter: str | None = None,
                 viseme_set: str = "oculus"):
        self.model = model
        self.fps = check_fps(fps)
        self.lookahead_s = model.cfg.lookahead_s if lookahead_s is None else float(lookahead_s)
        if self.lookahead_s < 0:
            raise InputError("lookahead_s must be >= 0 seconds.")
        self.chunk_frames = max(1, int(chunk_frames))
        self.lang_ids = model.vocab.lang_ids(lang)
        self.adapter = adapter
        self.viseme_set = viseme_set
        # the pack maps phones into a set the model has no head for (visemes.mouth.set_weights)
        self.pack = lang_packs.load(lang) if lang and viseme_set != "oculus" else None
        self.phones: list[Interval] = []
        self.emitted = 0
        self.known_until = 0.0
        self.total: int | None = None  # frame count, once the utterance's duration is known
        self.hist = int(math.ceil(model.cfg.history_s * self.fps)) + 1
        self.look = int(math.ceil(self.lookahead_s * self.fps)) + 1
        self.window_frames = next(
            (b for b in FRAME_BUCKETS if b >= self.hist + self.chunk_frames + self.look), None
        ) or (self.hist + self.chunk_frames + self.look)
        # frames ready together (a phone's end releases several) run in one call, as many as the window holds
        self.max_chunk = max(self.chunk_frames, self.window_frames - self.hist - self.look)
        self._state = model.state_for(adapter)

    def push(self, phones: Iterable[Interval], known_until: float) -> MouthAnimation | None:
        """Add phones (in order) and advance; returns the newly ready frames (or None)."""
        for p in phones:
            if self.phones and p.start < self.phones[-1].end - 1e-6:
                raise InputError(f"Streamed phone {p.label!r} at {p.start:.3f} s overlaps the previous one.")
            self.phones.append(p)
        self.known_until = max(self.known_until, float(known_until))
        ready = int(math.floor((self.known_until - self.lookahead_s) * self.fps + 1e-9)) + 1
        return self._emit(ready, final=False)

    def finish(self, duration: float) -> MouthAnimation | None:
        """Flush every remaining frame of an utterance of ``duration`` seconds."""
        self.known_until = max(self.known_until, float(duration) + self.lookahead_s)
        self.total = frame_count(duration, self.fps)
        return self._emit(self.total, final=True)

    def _emit(self, ready: int, final: bool) -> MouthAnimation | None:
        pieces = []
        while ready - self.emitted >= (1 if final else self.chunk_frames):
            a = self.emitted
            b = min(ready, a + self.max_chunk)
            pieces.append(self._chunk(a, b, ready))
            self.emitted = b
        if not pieces:
            return None
        out = jax.tree.map(lambda *xs: np.concatenate(xs, axis=0), *pieces)
        start = pieces_start(self, out)
        # phones matter only for a viseme set the model has no head for (and only those under these
        # frames): a Tier of every phone so far would make a long stream quadratic
        recent = ()
        if self.viseme_set not in (n for n, _ in self.model.cfg.viseme_sets):
            recent = tuple(p for p in self.phones if p.end >= start - 1.0 / self.fps)
        return self.model.to_animation(out, self.fps, self.viseme_set, self.adapter, start=start,
                                       phones=Tier(PHONES, recent), pack=self.pack)

    def _chunk(self, a: int, b: int, ready: int) -> dict:
        w0 = max(0, a - self.hist)
        w1 = b + self.look if self.total is None else min(b + self.look, self.total)
        times = np.arange(w0, w1) / self.fps
        t0, t1 = w0 / self.fps - MAX_SPAN_S, w1 / self.fps
        # phones that can influence the window: those ending after t0 (plus the one before, for the gap
        # feature) and starting by the window's end and by what is known
        starts = [p.start for p in self.phones]
        ends = [p.end for p in self.phones]
        lo = max(0, int(np.searchsorted(ends, t0)) - 1)
        hi = int(np.searchsorted(starts, min(t1, self.known_until), side="right"))
        u = encode_frames(self.phones[lo:hi], self.model.vocab, times, self.lang_ids)
        batch = collate([u], n_frames=self.window_frames)
        # the model's AOT-compiled window (compiled once per phone bucket and kept by the model): a
        # direct call skips VisemeModel.run's per-call bookkeeping, about half of a frame's cost
        key = tuple((k, v.shape) for k, v in sorted(batch.items()))
        fn = self.model._compiled.get(key) or self.model.compile(1, self.window_frames, batch["phone_ids"].shape[1])
        out = fn(self._state, batch)
        return jax.tree.map(lambda x: np.asarray(x)[0, a - w0 : b - w0], out)


def pieces_start(stream: StreamingPredictor, out: dict) -> float:
    n = out["articulation"].shape[0]
    return (stream.emitted - n) / stream.fps


def predict_streaming(model: VisemeModel, alignment: Alignment, fps: float = 30.0, *, chunk_s: float = 0.1,
                      lookahead_s: float | None = None, chunk_frames: int = 8, adapter: str | None = None) -> MouthAnimation:
    """Simulate a live stream over ``alignment``: phones arrive when they start, ``known_until`` advances
    by ``chunk_s``; returns all emitted frames joined (for comparison with offline ``predict``)."""
    stream = StreamingPredictor(model, fps, lookahead_s=lookahead_s, chunk_frames=chunk_frames,
                                lang=alignment.lang, adapter=adapter)
    phones = list(alignment.phones)
    outs = []
    i = 0
    t = 0.0
    while t < alignment.duration:
        t = min(t + chunk_s, alignment.duration)
        new = []
        while i < len(phones) and phones[i].start <= t:
            new.append(phones[i])
            i += 1
        out = stream.push(new, t)
        if out is not None:
            outs.append(out)
    stream.push(phones[i:], alignment.duration)
    last = stream.finish(alignment.duration)
    if last is not None:
        outs.append(last)
    def join(attr: str) -> FrameCurves:
        curves = [getattr(o, attr) for o in outs]
        return FrameCurves(fps, curves[0].channels, np.concatenate([c.values for c in curves]), 0.0, curves[0].meta)

    return MouthAnimation(join("articulation"), join("blendshapes"), join("visemes"), outs[0].source)
