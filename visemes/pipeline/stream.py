"""Streaming lip sync from TTS timing events: onsets in, one mouth frame per video frame out.

``EventStream`` takes :class:`~visemes.pipeline.tts_events.Onset` items as a synthesizer reports them
and returns every frame that has become final. A phone is complete when the next onset arrives
(its end is that onset's time); the neural model (:class:`visemes.models.streaming.StreamingPredictor`)
then emits the frame at time ``t`` once every phone starting before ``t + lookahead`` is complete.

Latency and equality, stated:

* **lookahead** (default: the model's own, 80 ms): the model sees this far ahead. At the model's
  lookahead the frames equal offline :meth:`VisemeModel.predict` on the same phones up to float32
  rounding (tested within ``OFFLINE_TOLERANCE``); a smaller one is allowed and approximates.
* **algorithmic latency** of the frame at ``t``: the stream time at which it can be emitted minus
  ``t`` = the lookahead plus the rest of the phone under ``t + lookahead`` (its end is needed: it is
  a model input), i.e. lookahead <= latency < lookahead + one phone. ``Frame.ready_at`` records it
  per frame; ``benchmarks/realtime.py`` reports its percentiles.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from visemes.core.curves import MouthAnimation
from visemes.core.errors import InputError
from visemes.core.timeline import Interval
from visemes.models.api import VisemeModel
from visemes.models.streaming import StreamingPredictor

from visemes.pipeline.tts_events import Onset

#: streamed frames match offline prediction this closely (max |difference| of any curve)
OFFLINE_TOLERANCE = 1e-4
#: a phone's known end: just before the next onset, which may itself start a phone
_EPS = 1e-6


@dataclass(frozen=True)
class Frame:
    """One video frame of mouth animation; ``ready_at`` is the stream time it became final."""

    index: int
    time: float
    ready_at: float
    visemes: dict[str, float]
    blendshapes: dict[str, float]
    articulation: dict[str, float]

    def to_json(self) -> str:
        def r(d: dict[str, float]) -> dict[str, float]:
            return {k: round(float(v), 5) for k, v in d.items()}

        return json.dumps({"frame": self.index, "time": round(self.time, 6), "ready_at": round(self.ready_at, 6),
                           "visemes": r(self.visemes), "blendshapes": r(self.blendshapes),
                           "articulation": r(self.articulation)}, ensure_ascii=False)


def frames_of(anim: MouthAnimation, ready_at: float) -> list[Frame]:
    fps = anim.visemes.fps
    first = int(round(anim.visemes.start * fps))
    out = []
    for i in range(anim.visemes.values.shape[0]):
        out.append(Frame(first + i, (first + i) / fps, ready_at,
                         dict(zip(anim.visemes.channels, anim.visemes.values[i].tolist())),
                         dict(zip(anim.blendshapes.channels, anim.blendshapes.values[i].tolist())),
                         dict(zip(anim.articulation.channels, anim.articulation.values[i].tolist()))))
    return out


class EventStream:
    """Feed onsets (in time order) with :meth:`feed`; call :meth:`finish` at the end of speech."""

    def __init__(self, model: VisemeModel, fps: float = 30.0, *, lookahead_s: float | None = None,
                 lang: str | None = None, viseme_set: str = "oculus", chunk_frames: int = 1,
                 adapter: str | None = None):
        self.predictor = StreamingPredictor(model, fps, lookahead_s=lookahead_s, chunk_frames=chunk_frames,
                                            lang=lang, adapter=adapter, viseme_set=viseme_set)
        self.lookahead_s = self.predictor.lookahead_s
        self._open: Onset | None = None
        self._done = False

    @property
    def fps(self) -> float:
        return self.predictor.fps

    def feed(self, onset: Onset) -> list[Frame]:
        """Add one onset; returns the frames it made final (maybe none)."""
        if self._done:
            raise InputError("The stream is finished; start a new EventStream for the next utterance.")
        if self._open is not None and onset.time < self._open.time - 1e-9:
            raise InputError(f"Onset at {onset.time:.3f} s is before the previous one ({self._open.time:.3f} s).")
        phones = []
        if self._open is not None and self._open.phone is not None and onset.time > self._open.time:
            phones.append(Interval(self._open.time, onset.time, self._open.phone))
        self._open = onset
        anim = self.predictor.push(phones, max(0.0, onset.time - _EPS))
        return frames_of(anim, onset.time) if anim is not None else []

    def tick(self, now: float) -> list[Frame]:
        """The stream clock reached ``now`` with no new onset: during a rest nothing can start before
        ``now``, so frames up to ``now - lookahead`` become final (inside a phone, its end is still
        unknown and nothing changes)."""
        if self._done or self._open is None or self._open.phone is not None or now <= self._open.time:
            return []
        anim = self.predictor.push([], float(now))
        return frames_of(anim, float(now)) if anim is not None else []

    def finish(self, end: float | None = None) -> list[Frame]:
        """End of speech at ``end`` seconds (default: the last onset, which then closes the last phone)."""
        if self._open is None:
            raise InputError("Nothing was streamed: feed at least one onset before finish().")
        end = self._open.time if end is None else float(end)
        out = self.feed(Onset(end, None)) if end > self._open.time else []
        self._done = True
        if end <= 0:
            return out
        anim = self.predictor.finish(end)
        return out + (frames_of(anim, end) if anim is not None else [])


def stream(onsets: Iterable[Onset], model: VisemeModel | None = None, fps: float = 30.0, **options: Any) -> Iterator[Frame]:
    """Frames for a sequence of onsets (the last one is the end of speech), as they become final.

    ``model``: a loaded :class:`VisemeModel` (default: the shipped one); ``options`` go to
    :class:`EventStream` (``lookahead_s``, ``lang``, ``viseme_set``, ``chunk_frames``, ``adapter``)."""
    if model is None:
        from visemes import models  # lazy: loading the model imports JAX

        model = models.load()
    s = EventStream(model, fps, **options)
    last = None
    for onset in onsets:
        if last is not None:
            yield from s.feed(last)
        last = onset
    if last is None:
        raise InputError("No timing events: the event file holds no phone or viseme onsets.")
    yield from s.finish(last.time)


def as_arrays(frames: list[Frame]) -> dict[str, np.ndarray]:
    """Frames as [T, channels] arrays (for comparison with offline output)."""
    return {k: np.array([list(getattr(f, k).values()) for f in frames], np.float64)
            for k in ("visemes", "blendshapes", "articulation")}
