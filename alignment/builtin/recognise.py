"""Audio-only timing: the free class loop (freeloop.py) as a recogniser of broad phone classes.

No transcript and no language needed: the loop runs over the aligner's class models (the shipped prior,
adapted to the file by a few passes of unsupervised Viterbi EM). Each recognised class is written as its
representative IPA phone (``freeloop.representative``) with the class in ``attrs["class"]``, so the rest
of the pipeline (visemes through the language pack, curves) treats it like any phones tier. A language
hint (``classes``: those the language's phone inventory has) narrows the loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

import numpy as np
from visemes.alignment.builtin import features as F
from visemes.alignment.builtin.aligner import EDGE_OFFSET, _check_audible
from visemes.alignment.builtin.freeloop import (
    EM_PASSES,
    SILENCE_UNIT,
    VARIANCE_ADD,
    LoopSegment,
    adapt_loop,
    broadened,
    build_loop,
    force_silence,
    pause_frames,
    quiet_mask,
    representative,
    segments,
    state_loglik,
    viterbi,
)
from visemes.alignment.builtin.hmm import Prior
from visemes.alignment.builtin.phones import CLASSES, CLOSURE_CLASSES, broad_class
from visemes.alignment.builtin.priors import load_prior

from visemes.core.audio import validate_audio
from visemes.core.timeline import Alignment, Interval, Tier

#: the class a closure without a recognised stop after it is written as
CLOSURE_STOP = "stop_voiceless"
#: margin (nats/dim over the best other class) at which a segment's confidence is 1 - 1/e
MARGIN_SCALE = 0.05


def classes_of(symbols: Collection[str]) -> tuple[str, ...]:
    """The loop classes a phone inventory covers (a language hint); all classes for an empty one."""
    found = {broad_class(s) for s in symbols} - {"other"}
    return tuple(c for c in CLASSES if c in found) or tuple(c for c in CLASSES if c != "other")


def closures(segs: list[LoopSegment], pause_frames: int) -> list[LoopSegment]:
    """A silence shorter than a pause between two speech segments is a stop closure (the loop's silence
    fits a closure as well as the stop's own closure state does): it joins the stop after it, or becomes
    a voiceless stop of its own (its margin 0: the audio does not say which stop)."""
    segs, out = list(segs), []
    for i, s in enumerate(segs):
        inner = 0 < i < len(segs) - 1 and s.unit == SILENCE_UNIT and s.end - s.start < pause_frames
        if inner and segs[i + 1].unit != SILENCE_UNIT and segs[i - 1].unit != SILENCE_UNIT:
            nxt = segs[i + 1]
            if nxt.unit in CLOSURE_CLASSES:
                segs[i + 1] = dataclasses.replace(nxt, start=s.start)
                continue
            out.append(dataclasses.replace(s, unit=CLOSURE_STOP, margin=0.0))
            continue
        out.append(s)
    return out


def recognise(audio: np.ndarray, sample_rate: int, *, classes: Collection[str] | None = None,
              prior: Prior | None = None, em_passes: int = EM_PASSES) -> Alignment:
    """Phone-class timeline of ``audio``: a ``phones`` tier (representative phones, ``class`` and
    ``confidence`` attrs) and a ``words`` tier with one interval per stretch of speech between pauses."""
    audio = validate_audio(audio, sample_rate)
    _check_audible(audio)
    duration = len(audio) / sample_rate
    raw = F.raw_features(F.fill_empty_band(F.resample(audio, sample_rate)))
    feats, _, _ = F.normalize(raw)
    loop = build_loop(tuple(classes) if classes else classes_of(()))
    quiet = quiet_mask(raw[:, 0], pause_frames())
    em = adapt_loop([feats], prior if prior is not None else load_prior(), loop, iterations=em_passes,
                    silence=[quiet])
    em = broadened(em, VARIANCE_ADD)
    ll = force_silence(state_loglik(feats, loop, em), loop, quiet)
    path, score = viterbi(ll, loop)
    segs = closures(segments(path, ll / feats.shape[1], loop), pause_frames())
    n = len(feats)

    def at(t: int) -> float:
        return 0.0 if t <= 0 else duration if t >= n else min(duration, t * F.FRAME_SECONDS + EDGE_OFFSET)

    phones, words, run = [], [], []
    for s in segs:
        if s.unit == SILENCE_UNIT:
            if run:
                words.append(Interval(run[0].start, run[-1].end, "*"))
                run = []
            continue
        conf = float(1.0 - np.exp(-max(s.margin, 0.0) / MARGIN_SCALE))
        iv = Interval(at(s.start), at(s.end), representative(s.unit), {"class": s.unit, "confidence": conf})
        phones.append(iv)
        run.append(iv)
    if run:
        words.append(Interval(run[0].start, run[-1].end, "*"))
    speech = [s for s in segs if s.unit != SILENCE_UNIT]
    weights = np.array([s.end - s.start for s in speech], float)
    utt = float(np.average([p.attrs["confidence"] for p in phones], weights=weights)) if phones else 0.0
    meta = {"aligner": "builtin-freeloop", "confidence": utt, "loop_loglik": score / max(n, 1) / feats.shape[1],
            "timing_source": "audio-only"}
    return Alignment((Tier("words", tuple(words)), Tier("phones", tuple(phones))), duration, meta)
