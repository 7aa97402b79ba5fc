"""Audio-only timing: a free loop of phone units as a recogniser of what the mouth must do.

No transcript and no language needed. With the shipped class network (classnet.py, trained on
synthetic espeak-ng speech only) the loop runs over place-aware units (unitloop.py: a broad class split
by viseme, e.g. p / t / k) scored by the network's posteriors plus a little of the aligner's class
Gaussians; without it, over the broad classes alone with the Gaussians (freeloop.py; the shipped prior
adapted to the file by unsupervised Viterbi EM). Each recognised unit is written as a representative IPA
phone with the class (and unit) in ``attrs``, so the rest of the pipeline (visemes through the language
pack, curves) treats it like any phones tier. A language hint (``classes``: those the language's phone
inventory has) narrows the loop.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import lru_cache

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
from visemes.alignment.builtin.classnet import ClassNet, load_classnet
from visemes.alignment.builtin.hmm import CLOSURE, SIL, Prior
from visemes.alignment.builtin.phones import CLASSES, CLOSURE_CLASSES, broad_class
from visemes.alignment.builtin.priors import load_prior
from visemes.alignment.builtin.unitloop import build_unit_loop, unit_class, unit_of

from visemes.core.audio import validate_audio
from visemes.core.timeline import Alignment, Interval, Tier

#: the class a closure without a recognised stop after it is written as
CLOSURE_STOP = "stop_voiceless"
#: margin (nats/dim over the best other class) at which a segment's confidence is 1 - 1/e
MARGIN_SCALE = 0.05
#: with the class network: penalty (nats) on entering a unit, the weight of the class Gaussians added
#: to the network's log posteriors, the pause length (a shorter quiet stretch between speech is a stop
#: closure), and how much later than the loop says the last phone ends (its release fades into the
#: quiet); chosen on the ces/eus/ibo files only (benchmarks/audio_only.py, docs/benchmarks.md)
NET_SWITCH_PENALTY = 8.0
NET_GAUSS_WEIGHT = 0.1
NET_PAUSE_SECONDS = 0.25
NET_FINAL_EXTEND = 0.02
#: the unit a closure without a recognised stop after it is written as (with the network)
CLOSURE_UNIT = "stop_voiceless.DD"
_SHIPPED = object()


def classes_of(symbols: Collection[str]) -> tuple[str, ...]:
    """The loop classes a phone inventory covers (a language hint); all classes for an empty one."""
    found = {broad_class(s) for s in symbols} - {"other"}
    return tuple(c for c in CLASSES if c in found) or tuple(c for c in CLASSES if c != "other")


def closures(segs: list[LoopSegment], pause_frames: int, closure_unit: str = CLOSURE_STOP,
             class_of: Callable[[str], str] = lambda u: u) -> list[LoopSegment]:
    """A silence shorter than a pause between two speech segments is a stop closure (the loop's silence
    fits a closure as well as the stop's own closure state does): it joins the stop after it, or becomes
    a voiceless stop of its own (its margin 0: the audio does not say which stop)."""
    segs, out = list(segs), []
    for i, s in enumerate(segs):
        inner = 0 < i < len(segs) - 1 and s.unit == SILENCE_UNIT and s.end - s.start < pause_frames
        if inner and segs[i + 1].unit != SILENCE_UNIT and segs[i - 1].unit != SILENCE_UNIT:
            nxt = segs[i + 1]
            if class_of(nxt.unit) in CLOSURE_CLASSES:
                segs[i + 1] = dataclasses.replace(nxt, start=s.start)
                continue
            out.append(dataclasses.replace(s, unit=closure_unit, margin=0.0))
            continue
        out.append(s)
    return out


@dataclass(frozen=True)
class _Recognised:
    """Segments of the loop's best path with label, class and confidence, and the loop's fit."""

    segs: list[LoopSegment]
    label: Callable[[str], str]
    cls: Callable[[str], str]
    confidence: list[float]  # per segment
    loglik: float  # best path per frame and dimension
    extend_last: float  # seconds the last phone ends later than its last frame
    aligner: str


@lru_cache(maxsize=8)
def _unit_loops(units: tuple[str, ...]):
    return build_unit_loop(units)


def _posterior_confidence(segs: list[LoopSegment], logpost: np.ndarray, net: ClassNet) -> list[float]:
    """Per segment: the network's mean posterior mass on the segment's unit (its keys, and the closure
    for a stop), over the segment's frames; a closure-turned-stop (margin 0 by construction) gets the
    closure's mass."""
    post = np.exp(logpost)
    col = {k: i for i, k in enumerate(net.keys)}
    out = []
    for s in segs:
        if s.unit == SILENCE_UNIT:
            cols = [col[SIL]]
        else:
            cols = [col[k] for k in net.keys if k.startswith(f"u:{s.unit}|")]
            if unit_class(s.unit) in CLOSURE_CLASSES:
                cols.append(col[CLOSURE])
        out.append(float(post[s.start:s.end][:, cols].sum(axis=1).mean()) if s.end > s.start else 0.0)
    return out


def units_of(net: ClassNet, classes: Collection[str], inventory: Collection[str] | None) -> tuple[str, ...]:
    """The network's units in ``classes`` that a phone of ``inventory`` (a language hint) has; all of
    them in ``classes`` without an inventory (or when it covers none)."""
    units = tuple(u for u in net.units if unit_class(u) in set(classes)) or net.units
    if inventory:
        have = {unit_of(s) for s in inventory}
        units = tuple(u for u in units if u in have) or units
    return units


def _recognise_units(feats, raw, net: ClassNet, classes, inventory, prior: Prior, em_passes: int) -> _Recognised:
    units = units_of(net, classes, inventory)
    loop, gauss_loop = _unit_loops(units)
    pause = round(NET_PAUSE_SECONDS / F.FRAME_SECONDS)
    quiet = quiet_mask(raw[:, 0], pause)
    em = broadened(adapt_loop([feats], prior, build_loop(tuple(classes)), iterations=em_passes, silence=[quiet]),
                   VARIANCE_ADD)
    logpost = net.log_posteriors(feats)
    col = {k: i for i, k in enumerate(net.keys)}
    ll = logpost[:, [col[slots[0]] for slots in loop.keys]] + NET_GAUSS_WEIGHT * state_loglik(feats, gauss_loop, em)
    ll = force_silence(ll, loop, quiet)
    path, score = viterbi(ll, loop, NET_SWITCH_PENALTY)
    segs = closures(segments(path, ll, loop), pause, CLOSURE_UNIT, unit_class)
    reps = dict(net.representatives)
    return _Recognised(segs, lambda u: reps.get(u) or representative(unit_class(u)), unit_class,
                       _posterior_confidence(segs, logpost, net), score / max(len(feats), 1) / feats.shape[1],
                       NET_FINAL_EXTEND, "builtin-unitloop")


def _recognise_classes(feats, raw, classes, prior: Prior, em_passes: int) -> _Recognised:
    loop = build_loop(tuple(classes))
    quiet = quiet_mask(raw[:, 0], pause_frames())
    em = adapt_loop([feats], prior, loop, iterations=em_passes, silence=[quiet])
    em = broadened(em, VARIANCE_ADD)
    ll = force_silence(state_loglik(feats, loop, em), loop, quiet)
    path, score = viterbi(ll, loop)
    segs = closures(segments(path, ll / feats.shape[1], loop), pause_frames())
    conf = [float(1.0 - np.exp(-max(s.margin, 0.0) / MARGIN_SCALE)) for s in segs]
    return _Recognised(segs, representative, lambda u: u, conf, score / max(len(feats), 1) / feats.shape[1], 0.0,
                       "builtin-freeloop")


def recognise(audio: np.ndarray, sample_rate: int, *, classes: Collection[str] | None = None,
              inventory: Collection[str] | None = None, prior: Prior | None = None, em_passes: int | None = None,
              net=_SHIPPED) -> Alignment:
    """Phone-class timeline of ``audio``: a ``phones`` tier (representative phones; ``class``, ``unit``
    and ``confidence`` attrs) and a ``words`` tier with one interval per stretch of speech between pauses.

    ``inventory``: the language's phones (a hint): with the network, only units its phones have.
    ``net``: the class network (default: the shipped one); None for the Gaussian class loop alone.
    ``em_passes``: unsupervised EM passes of the class Gaussians on the file (default: EM_PASSES for the
    Gaussian loop, none with the network, where they did not help)."""
    audio = validate_audio(audio, sample_rate)
    _check_audible(audio)
    duration = len(audio) / sample_rate
    raw = F.raw_features(F.fill_empty_band(F.resample(audio, sample_rate)))
    feats, _, _ = F.normalize(raw)
    classes = tuple(classes) if classes else classes_of(())
    prior = prior if prior is not None else load_prior()
    net = load_classnet() if net is _SHIPPED else net
    if net is not None:
        rec = _recognise_units(feats, raw, net, classes, inventory, prior, 0 if em_passes is None else em_passes)
    else:
        rec = _recognise_classes(feats, raw, classes, prior, EM_PASSES if em_passes is None else em_passes)
    n = len(feats)

    def at(t: int) -> float:
        return 0.0 if t <= 0 else duration if t >= n else min(duration, t * F.FRAME_SECONDS + EDGE_OFFSET)

    phones, words, run = [], [], []
    speech = [i for i, s in enumerate(rec.segs) if s.unit != SILENCE_UNIT]
    for i, s in enumerate(rec.segs):
        if s.unit == SILENCE_UNIT:
            if run:
                words.append(Interval(run[0].start, run[-1].end, "*"))
                run = []
            continue
        end = min(duration, at(s.end) + rec.extend_last) if i == speech[-1] else at(s.end)
        attrs = {"class": rec.cls(s.unit), "confidence": rec.confidence[i]}
        if s.unit != attrs["class"]:
            attrs["unit"] = s.unit
        iv = Interval(at(s.start), end, rec.label(s.unit), attrs)
        phones.append(iv)
        run.append(iv)
    if run:
        words.append(Interval(run[0].start, run[-1].end, "*"))
    weights = np.array([rec.segs[i].end - rec.segs[i].start for i in speech], float)
    utt = float(np.average([p.attrs["confidence"] for p in phones], weights=weights)) if phones else 0.0
    meta = {"aligner": rec.aligner, "confidence": utt, "loop_loglik": rec.loglik, "timing_source": "audio-only"}
    return Alignment((Tier("words", tuple(words)), Tier("phones", tuple(phones))), duration, meta)
