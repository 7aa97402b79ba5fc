"""Chunked (streaming) prediction with bounded lookahead.

A stream is fed complete phone intervals plus ``known_until``: the time up to which every phone that
*starts* before it has been delivered. A frame at time t is emitted once ``known_until >= t + lookahead``.
Each chunk computes only its new frames, from a window of inputs ``left_context_s`` back and the
model's lookahead ahead and each later layer's cached inputs (:mod:`visemes.models.incremental`);
because the model's receptive field is exactly that (local attention, lookahead only in the first
layer, frame inputs that depend on phones started by the frame's time), emitted frames equal offline
prediction up to float rounding when ``lookahead_s >= model.cfg.lookahead_s``. A smaller lookahead is allowed and gives
an approximation (measured in benchmarks/models.py).
"""

from __future__ import annotations

import bisect
import math
from typing import Iterable

import jax
import numpy as np

from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import PHONES, Alignment, Interval, Tier
from visemes import lang_packs

from visemes.models.api import VisemeModel
from visemes.models.inputs import MAX_SPAN_S, collate, encode_frames


#: new frames per compiled step (a call pads to the next); more frames ready at once take several steps
QUERY_BUCKETS: tuple[int, ...] = (1, 4, 16, 64)

#: seconds before a chunk from which a phone can still change its frames (a bilabial's closure floor
#: ends within closure_release of the phone plus visemes.mouth.closure.TAPER and half a frame)
CLOSURE_REACH_S = 0.25


class StreamingPredictor:
    """Each step computes only the frames that became ready (:mod:`visemes.models.incremental`): the
    first layer over a window of inputs reaching ``left_context_s`` back and the model's lookahead
    ahead, later layers over their own inputs cached for the last ``left_context_s``."""

    def __init__(self, model: VisemeModel, fps: float = 30.0, *, lookahead_s: float | None = None,
                 chunk_frames: int = 8, lang: str | None = None, adapter: str | None = None,
                 viseme_set: str = "oculus"):
        self.model = model
        self.fps = check_fps(fps)
        if self.fps > model.cfg.max_fps + 1e-9:
            raise InputError(f"This model runs at up to {model.cfg.max_fps:g} fps; ask for a lower frame rate.")
        self.lookahead_s = model.cfg.lookahead_s if lookahead_s is None else float(lookahead_s)
        if self.lookahead_s < 0:
            raise InputError("lookahead_s must be >= 0 seconds.")
        self.chunk_frames = max(1, int(chunk_frames))
        self.lang_ids = model.vocab.lang_ids(lang)
        self.adapter = adapter
        self.viseme_set = viseme_set
        # the pack maps phones into a set the model has no head for (visemes.mouth.set_weights); without
        # it the closure rule (visemes.mouth.closure) reads the phones' universal specs, as predict() does
        # when it is given no pack
        self.pack = lang_packs.load(lang) if lang and viseme_set != "oculus" else None
        self.phones: list[Interval] = []
        self._starts: list[float] = []
        self._ends: list[float] = []
        self.emitted = 0
        self.known_until = 0.0
        self.total: int | None = None  # frame count, once the utterance's duration is known
        # frames a query attends back (every layer) and ahead (the first layer; the model's lookahead)
        self.n_hist = int(math.ceil(model.cfg.left_context_s * self.fps)) + 1
        self.n_ahead = int(math.ceil(model.cfg.lookahead_s * self.fps)) + 1
        self.look = int(math.ceil(self.lookahead_s * self.fps)) + 1  # frames known ahead of an emitted one
        self.max_chunk = QUERY_BUCKETS[-1]
        self._runner = model.incremental(adapter)
        d = model.cfg.d_model
        # inputs of layers 1.. for the last n_hist emitted frames (none yet: masked)
        self._hist = np.zeros((model.cfg.n_layers - 1, 1, self.n_hist, d), np.float32)
        self._hist_mask = np.zeros((1, self.n_hist), bool)

    def push(self, phones: Iterable[Interval], known_until: float) -> MouthAnimation | None:
        """Add phones (in order) and advance; returns the newly ready frames (or None)."""
        for p in phones:
            if self.phones and p.start < self.phones[-1].end - 1e-6:
                raise InputError(f"Streamed phone {p.label!r} at {p.start:.3f} s overlaps the previous one.")
            self.phones.append(p)
            self._starts.append(p.start)
            self._ends.append(p.end)
        self.known_until = max(self.known_until, float(known_until))
        ready = int(math.floor((self.known_until - self.lookahead_s) * self.fps + 1e-9)) + 1
        return self._emit(ready, final=False)

    def finish(self, duration: float) -> MouthAnimation | None:
        """Flush every remaining frame of an utterance of ``duration`` seconds."""
        self.known_until = max(self.known_until, float(duration) + self.lookahead_s)
        self.total = frame_count(duration, self.fps)
        return self._emit(self.total, final=True)

    def warm(self) -> None:
        """Compile every step size now (a first call of each compiles, ~1 s: not inside a live stream)."""
        for q in QUERY_BUCKETS:
            batch, _ = self._window(self.emitted, self.emitted + q, q)
            self._runner(batch, self._hist, self._hist_mask, q)

    def _emit(self, ready: int, final: bool) -> MouthAnimation | None:
        pieces = []
        while ready - self.emitted >= (1 if final else self.chunk_frames):
            a = self.emitted
            b = min(ready, a + self.max_chunk)
            pieces.append(self._chunk(a, b))
            self.emitted = b
        if not pieces:
            return None
        out = pieces[0] if len(pieces) == 1 else jax.tree.map(lambda *xs: np.concatenate(xs, axis=0), *pieces)
        start = pieces_start(self, out)
        # only the phones that can touch these frames (a viseme set the model has no head for maps
        # them; a bilabial's closure reaches CLOSURE_REACH_S around it): a Tier of every phone so far
        # would make a long stream quadratic
        recent = tuple(self.phones[bisect.bisect_left(self._ends, start - CLOSURE_REACH_S):])
        return self.model.to_animation(out, self.fps, self.viseme_set, self.adapter, start=start,
                                       phones=Tier(PHONES, recent), pack=self.pack)

    def _window(self, a: int, b: int, n_query: int) -> tuple[dict, int]:
        """Model inputs for the window of frames ``[a - n_hist, a + n_query + n_ahead)`` and the end of
        the frames that exist and are known (``frame_mask``)."""
        w1 = b + self.look if self.total is None else min(b + self.look, self.total)
        index = np.arange(a - self.n_hist, a + n_query + self.n_ahead)
        # phones that can influence the window: those ending after t0 (plus the one before, for the gap
        # feature) and starting by the window's end and by what is known
        t0, t1 = max(0, a - self.n_hist) / self.fps - MAX_SPAN_S, w1 / self.fps
        lo = max(0, bisect.bisect_left(self._ends, t0) - 1)
        hi = bisect.bisect_right(self._starts, min(t1, self.known_until))
        u = encode_frames(self.phones[lo:hi], self.model.vocab, index / self.fps, self.lang_ids)
        batch = collate([u], n_frames=len(index))
        batch["frame_mask"][0] = (index >= 0) & (index < w1)
        return batch, w1

    def _chunk(self, a: int, b: int) -> dict:
        n = b - a
        q = next(q for q in QUERY_BUCKETS if q >= n)
        batch, _ = self._window(a, b, q)
        out, new = self._runner(batch, self._hist, self._hist_mask, q)
        # the new frames are final: they join the cached history of every layer
        self._hist = np.concatenate([self._hist, np.asarray(new)[:, :, :n]], axis=2)[:, :, -self.n_hist:]
        self._hist_mask = np.concatenate([self._hist_mask, np.ones((1, n), bool)], axis=1)[:, -self.n_hist:]
        return jax.tree.map(lambda x: np.asarray(x)[0, :n], out)


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
