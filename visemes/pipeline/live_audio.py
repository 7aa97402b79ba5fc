"""Live lip sync from audio alone: sample blocks in (a WAV replayed in real time, or a microphone),
mouth frames out.

:class:`AudioStream` is the one audio -> frames path for both sources. It cuts the incoming audio
into segments at pauses (``pause_s`` of quiet after speech) or, in continuous speech, every
``max_segment_s``; each segment's phone classes are recognised from the audio alone (the built-in
aligner's free class loop, :func:`visemes.alignment.builtin.recognise.recognise`, as ``visemes
animate`` without text), and its phones go to the same streaming predictors as TTS events
(:class:`visemes.models.streaming.StreamingPredictor`, or the coarticulation rules).

Latency, stated: the recogniser needs a whole segment, so a frame becomes final when its segment
ends (at most ``max_segment_s`` plus ``pause_s`` after it) plus the recognition's compute; frames
carry ``ready_at`` (the stream time they were emitted) as in :mod:`visemes.pipeline.stream`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from visemes.core.errors import AudioError, InputError
from visemes import lang_packs
from visemes.core.timeline import Interval
from visemes.lang_packs import LanguagePack
from visemes.models.api import VisemeModel
from visemes.models.streaming import StreamingPredictor

from visemes.pipeline.animator import audio_only_timings, universal_pack
from visemes.pipeline.stream import Frame, RulesPredictor, frames_of

#: energy frames of the segmenter (seconds)
LEVEL_HOP_S = 0.01
#: a 10 ms frame is quiet below this level relative to the loudest so far (dB) ...
QUIET_DB = -35.0
#: ... or below this absolute RMS (full scale 1.0): room noise before anyone spoke
QUIET_FLOOR = 1e-3


class AudioStream:
    """Feed mono float sample blocks with :meth:`feed`; :meth:`finish` at the end of the audio.

    ``model``: the neural model, or None for the coarticulation rules (their pack: ``lang``, or the
    universal specs). ``lang`` narrows the recogniser to the pack's phone classes."""

    def __init__(self, model: VisemeModel | None, sample_rate: int, fps: float = 30.0, *, lang: str | None = None,
                 viseme_set: str = "oculus", lookahead_s: float | None = None, pause_s: float = 0.25,
                 max_segment_s: float = 2.0, pack: LanguagePack | None = None):
        if not isinstance(sample_rate, int) or sample_rate < 8000:
            raise InputError(f"The audio's sample rate must be a whole number of Hz, at least 8000; got {sample_rate!r}.")
        if not 0.05 <= pause_s < max_segment_s:
            raise InputError("Need 0.05 s <= pause_s < max_segment_s.")
        self.sample_rate = sample_rate
        self.pack = pack or (lang_packs.load(lang) if lang else universal_pack())
        if model is None:
            self.predictor: StreamingPredictor | RulesPredictor = RulesPredictor(
                None, fps, lookahead_s=0.08 if lookahead_s is None else lookahead_s, viseme_set=viseme_set,
                pack=self.pack)
        else:
            self.predictor = StreamingPredictor(model, fps, lookahead_s=lookahead_s, chunk_frames=1, lang=lang,
                                                viseme_set=viseme_set)
        self.pause_s, self.max_segment_s = float(pause_s), float(max_segment_s)
        self._hop = max(1, int(round(LEVEL_HOP_S * sample_rate)))
        self._buf = np.zeros(0, np.float32)   # samples of the open segment
        self._seg_start = 0                   # its first sample in the stream
        self._peak_rms = 0.0
        self._speech = False                  # the open segment holds speech
        self._quiet_run = 0                   # trailing quiet samples of the open segment
        self._scanned = 0                     # samples of the open segment the segmenter has levelled
        self._done = False

    @property
    def fps(self) -> float:
        return self.predictor.fps

    @property
    def time(self) -> float:
        """Seconds of audio received so far."""
        return (self._seg_start + len(self._buf)) / self.sample_rate

    def feed(self, block: np.ndarray) -> list[Frame]:
        """Add samples (mono, float in [-1, 1]); returns the frames they made final (maybe none)."""
        if self._done:
            raise InputError("The stream is finished; start a new AudioStream for the next take.")
        block = np.asarray(block, np.float32).reshape(-1)
        if not np.all(np.isfinite(block)):
            raise AudioError("The audio block holds NaN or infinite samples.")
        self._buf = np.concatenate([self._buf, block])
        out: list[Frame] = []
        while self._scanned + self._hop <= len(self._buf):
            level = float(np.sqrt(np.mean(self._buf[self._scanned : self._scanned + self._hop] ** 2)))
            self._scanned += self._hop
            self._peak_rms = max(self._peak_rms, level)
            quiet = level < max(QUIET_FLOOR, self._peak_rms * 10 ** (QUIET_DB / 20))
            self._quiet_run = self._quiet_run + self._hop if quiet else 0
            self._speech = self._speech or not quiet
            paused = self._speech and self._quiet_run >= self.pause_s * self.sample_rate
            if paused or self._scanned >= self.max_segment_s * self.sample_rate:
                out += self._close(self._scanned)
        return out

    def finish(self) -> list[Frame]:
        """End of the audio: recognise what is left and flush every frame."""
        if self._done:
            return []
        out = self._close(len(self._buf))
        self._done = True
        end = self._seg_start / self.sample_rate
        if end <= 0:
            return out
        anim = self.predictor.finish(end)
        return out + (frames_of(anim, end) if anim is not None else [])

    def _close(self, n: int) -> list[Frame]:
        """Recognise the open segment's first ``n`` samples and stream its phones."""
        seg, t0 = self._buf[:n], self._seg_start / self.sample_rate
        phones: list[Interval] = []
        if self._speech and n:
            try:
                timed = audio_only_timings(seg, self.sample_rate, self.pack)
            except AudioError:  # too quiet for the recogniser: a rest
                timed = None
            if timed is not None:
                phones = [Interval(t0 + p.start, t0 + p.end, p.label, p.attrs) for p in timed.phones
                          if p.end > p.start]
        self._buf, self._seg_start = self._buf[n:], self._seg_start + n
        self._scanned, self._speech, self._quiet_run = 0, False, 0
        end = self._seg_start / self.sample_rate
        anim = self.predictor.push(phones, end)
        return frames_of(anim, end) if anim is not None else []


def wav_blocks(samples: np.ndarray, sample_rate: int, *, hop_s: float = 0.01, speed: float = 1.0,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.perf_counter
               ) -> Iterator[np.ndarray]:
    """A recording as a live source: blocks of ``hop_s`` at real-time pace (``speed`` times faster;
    0 = no pacing), each yielded when a microphone would have delivered it."""
    if speed < 0:
        raise InputError("speed must be >= 0 (0 = no pacing).")
    hop = max(1, int(round(hop_s * sample_rate)))
    t0 = clock()
    for a in range(0, len(samples), hop):
        block = samples[a : a + hop]
        if speed > 0:
            delay = t0 + (a + len(block)) / sample_rate / speed - clock()
            if delay > 0:
                sleep(delay)
        yield block


def live_frames(blocks: Iterable[np.ndarray], stream: AudioStream) -> Iterator[Frame]:
    """Frames from a source of sample blocks (``wav_blocks`` or ``visemes.pipeline.microphone.blocks``)
    as they become final; the last ones when the source ends."""
    for block in blocks:
        yield from stream.feed(block)
    yield from stream.finish()
