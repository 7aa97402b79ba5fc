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
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from visemes import lang_packs, models
from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import PHONES, Interval, Tier
from visemes.models.api import VisemeModel
from visemes.models.streaming import StreamingPredictor
from visemes.mouth.coarticulation import CoarticulationParams, animate_phones, params_for

from visemes.pipeline.tts_events import Onset

#: streamed frames match offline prediction this closely (max |difference| of any curve)
OFFLINE_TOLERANCE = 1e-4
#: a phone's known end: just before the next onset, which may itself start a phone
_EPS = 1e-6
#: the rules' lookahead that reproduces offline output (a segment's dominance reaches at most
#: ``window`` = 0.6 s beyond its core; 0.7 s covers core and taper at every frame rate)
RULES_EXACT_LOOKAHEAD_S = 0.7
_RULES_HISTORY_S = 1.5  # phones ending this long before a frame cannot touch it (reach <= 0.6 s)


class RulesPredictor:
    """The coarticulation rules (:func:`visemes.mouth.coarticulation.animate_phones`, the non-neural
    path of ``animate``) with the streaming interface of :class:`StreamingPredictor`: ``push(phones,
    known_until)`` and ``finish(duration)``. Each batch of ready frames is computed from the phones
    of the last ``_RULES_HISTORY_S`` seconds up to ``known_until``. The rules anticipate up to 0.6 s
    (lip rounding before a rounded vowel), so a lookahead under ``RULES_EXACT_LOOKAHEAD_S`` truncates
    that anticipation: an approximation, measured in ``benchmarks/realtime.py``."""

    def __init__(self, lang: str | None, fps: float = 30.0, *, lookahead_s: float = 0.08, viseme_set: str = "oculus",
                 params: CoarticulationParams | None = None, pack: lang_packs.LanguagePack | None = None):
        """``pack`` (e.g. the universal specs for audio without a language) instead of ``lang``'s."""
        self.fps = check_fps(fps)
        self.lookahead_s = float(lookahead_s)
        if self.lookahead_s < 0:
            raise InputError("lookahead_s must be >= 0 seconds.")
        self.pack = pack if pack is not None else lang_packs.load(lang)
        self.viseme_set = viseme_set
        self.params = params or params_for(self.pack)  # the language's [mouth] settings, as animate() uses
        self.phones: list[Interval] = []
        self.known_until = 0.0
        self.emitted = 0

    def push(self, phones, known_until: float) -> MouthAnimation | None:
        for p in phones:
            if self.phones and p.start < self.phones[-1].end - 1e-6:
                raise InputError(f"Streamed phone {p.label!r} at {p.start:.3f} s overlaps the previous one.")
            self.phones.append(p)
        self.known_until = max(self.known_until, float(known_until))
        ready = int(np.floor((self.known_until - self.lookahead_s) * self.fps + 1e-9)) + 1
        return self._emit(ready, self.known_until)

    def finish(self, duration: float) -> MouthAnimation | None:
        self.known_until = max(self.known_until, float(duration))
        return self._emit(frame_count(duration, self.fps), float(duration))

    def _emit(self, ready: int, horizon: float) -> MouthAnimation | None:
        if ready <= self.emitted:
            return None
        a, b = self.emitted, ready
        horizon = max(horizon, self.phones[-1].end if self.phones else 0.0)
        k0 = max(0, int(np.floor((a / self.fps - _RULES_HISTORY_S) * self.fps)))
        t0 = k0 / self.fps
        # phones cut at t0 change only frames within their reach of t0, well before frame a
        recent = [Interval(max(0.0, p.start - t0), p.end - t0, p.label, p.attrs) for p in self.phones if p.end > t0]
        # the window [t0, horizon]: frames k0.. on the same grid (frame k0 + i at t0 + i / fps)
        duration = max(horizon - t0, (b - 1 - k0) / self.fps)  # frame_count(duration) covers frame b - 1
        anim = animate_phones(Tier(PHONES, tuple(recent)), self.pack, self.fps, duration,
                              viseme_set=self.viseme_set, params=self.params)
        self.emitted = b

        def cut(c: FrameCurves) -> FrameCurves:
            return FrameCurves(self.fps, c.channels, c.values[a - k0 : b - k0], a / self.fps, c.meta)

        return MouthAnimation(cut(anim.articulation), cut(anim.blendshapes), cut(anim.visemes), anim.source)


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

    def __init__(self, model: VisemeModel | None, fps: float = 30.0, *, lookahead_s: float | None = None,
                 lang: str | None = None, viseme_set: str = "oculus", chunk_frames: int = 1,
                 adapter: str | None = None):
        """``model``: the neural model, or None for the coarticulation rules (then ``lang`` is required)."""
        if model is None:
            if not lang:
                raise InputError("The coarticulation rules need the language of the speech: give lang (--lang).")
            if adapter is not None:
                raise InputError("Adapters need the neural model; the coarticulation rules have none.")
            self.predictor: StreamingPredictor | RulesPredictor = RulesPredictor(
                lang, fps, lookahead_s=0.08 if lookahead_s is None else lookahead_s, viseme_set=viseme_set)
        else:
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


def stream(onsets: Iterable[Onset], model: VisemeModel | str | None = None, fps: float = 30.0, **options: Any) -> Iterator[Frame]:
    """Frames for a sequence of onsets (the last one is the end of speech), as they become final.

    ``model``: a loaded :class:`VisemeModel` (default: the shipped one), or ``"rules"`` for the
    coarticulation rules; ``options`` go to :class:`EventStream` (``lookahead_s``, ``lang``,
    ``viseme_set``, ``chunk_frames``, ``adapter``)."""
    if isinstance(model, str):
        if model != "rules":
            raise InputError(f"model must be a VisemeModel, None (the shipped one) or 'rules', got {model!r}.")
        model = None
    elif model is None:
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


def replay(onsets: list[Onset], s: EventStream, *, speed: float = 1.0, hop_s: float = 0.01,
           sleep=time.sleep, clock=time.perf_counter) -> Iterator[Frame]:
    """Feed ``onsets`` (the last is the end of speech) to ``s`` at real-time pace (``speed`` times
    faster; 0 = no pacing), with the clock ticking every ``hop_s`` between onsets so pauses finish
    frames on time; yields frames as they become final."""
    if speed < 0:
        raise InputError("speed must be >= 0 (0 = no pacing).")
    if not onsets:
        raise InputError("No timing events: the event file holds no phone or viseme onsets.")
    t0 = clock()

    def wait_until(t: float) -> None:
        if speed > 0:
            delay = t0 + t / speed - clock()
            if delay > 0:
                sleep(delay)

    now = 0.0
    for onset in onsets[:-1]:
        while now + hop_s < onset.time:
            now += hop_s
            wait_until(now)
            yield from s.tick(now)
        wait_until(onset.time)
        now = onset.time
        yield from s.feed(onset)
    wait_until(onsets[-1].time)
    yield from s.finish(onsets[-1].time)


def as_arrays(frames: list[Frame]) -> dict[str, np.ndarray]:
    """Frames as [T, channels] arrays (for comparison with offline output)."""
    return {k: np.array([list(getattr(f, k).values()) for f in frames], np.float64)
            for k in ("visemes", "blendshapes", "articulation")}
