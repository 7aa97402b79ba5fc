"""Bilabial closures that close, on curves the coarticulation rules did not make (the neural model).

The rules guarantee lip contact at every bilabial and build their viseme weights and ARKit shapes from
it (:mod:`visemes.mouth.coarticulation`). A learned model only approximates that: its ``lip_close`` can
stop short of contact at a short /p/, its bilabial viseme can get 0.7 of the frame, and its own
``mouthClose`` can leave ``jawOpen``'s gap open. :func:`close_bilabials` gives such curves the same
guarantees, from the timed phones alone:

* ``lip_close`` is at least :func:`closure_floor`: contact (:data:`~visemes.mouth.arkit.CONTACT`) over
  each bilabial's closure (from ``closure_lead`` before its labelled start to ``closure_release`` of it,
  at least ``min_hold`` long, the rules' timing; a span between two frame times closes the frame
  nearest its centre), tapered to 0 over :data:`TAPER` on both sides;
* at contact the lips are pressed forward (``lip_protrude`` at least ``closure_protrusion``), as in the
  rules;
* the set's bilabial viseme keeps the frame (:func:`~visemes.mouth.viseme_weights.keep_closure`: at
  least 0.95 at contact);
* ARKit ``mouthClose`` is at least ``jawOpen`` times the contact share (so ``mouthClose >= jawOpen`` at
  contact), and ``mouthFunnel`` fades with it (closed lips cannot funnel).

A phone is bilabial when its pack target closes the lips (``lip_close >= 0.9``, the rules' test: Spanish
β at 0.6 is an approach, not a closure). Every output frame depends only on its own time and the
phones, so chunked (streaming) output equals offline output whenever the stream has seen each
bilabial :func:`reach` seconds before its start: the model path caps a cluster's early closure at its
lookahead (80 ms) less the taper.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import InputError
from visemes.core.timeline import Tier
from visemes.lang_packs import PhoneLookup, fallback_phone
from visemes.mouth.arkit import CONTACT
from visemes.mouth.coarticulation import CLOSING_TARGET, CoarticulationParams, oral_closure
from visemes.mouth.viseme_weights import closure_share, keep_closure
from visemes.mouth.visemesets import from_oculus

#: seconds over which the floor falls from contact to 0 beyond the closure: the lips meet and part in
#: a fast movement (the rules close at 200/s, open at 120/s), and a longer ramp would half-close a short
#: vowel between two bilabials ("mom")
TAPER = 0.015


def bilabial_spans(phones: Tier, pack: PhoneLookup | None, params: CoarticulationParams,
                   max_lead: float = np.inf) -> np.ndarray:
    """``[B, 2]``: (start, end) of each bilabial's lip contact, by the rules' timing (with their
    ``cluster_overlap``: after a stop, nasal or affricate, the lips close from its middle), starting at
    most ``max_lead`` seconds before the bilabial's labelled start."""
    rows = []
    prev = None
    for iv in phones:
        spec = pack.phone(iv.label) if pack is not None else fallback_phone(iv.label)
        before, prev = prev, (iv, spec)
        if float(spec.target.get("lip_close", 0.0)) < CLOSING_TARGET:
            continue
        lo = iv.start - params.closure_lead
        if params.cluster_overlap and before is not None:
            p, pspec = before
            if (iv.start - p.end < params.closure_gap and float(pspec.target.get("lip_close", 0.0)) < CLOSING_TARGET
                    and oral_closure(p.label)):
                lo = max(min(lo, p.midpoint), iv.start - max(max_lead, params.closure_lead))
        hi = iv.start + params.closure_release * (iv.end - iv.start)
        grow = max(0.0, params.min_hold - (hi - lo)) / 2
        rows.append((lo - grow, hi + grow))
    return np.array(rows, np.float64).reshape(-1, 2)


def reach(params: CoarticulationParams, max_lead: float = np.inf) -> float:
    """How long before a bilabial's labelled start :func:`closure_floor` can be above 0 (at most)."""
    return max(params.closure_lead, min(max_lead, 1.0)) + TAPER


def closure_floor(times: np.ndarray, spans: np.ndarray, fps: float) -> np.ndarray:
    """The least ``lip_close`` at each time: CONTACT inside a contact span and at the frame nearest its
    centre (within half a frame of it), a C1 taper to 0 over TAPER beyond the span."""
    times = np.asarray(times, np.float64)
    out = np.zeros(len(times))
    for lo, hi in spans:
        d = np.maximum(0.0, np.maximum(lo - times, times - hi))
        d[np.abs(times - 0.5 * (lo + hi)) <= 0.5 / fps] = 0.0
        x = np.clip(d / TAPER, 0.0, 1.0)
        out = np.maximum(out, CONTACT * (1.0 - x * x) ** 2)
    return out


def close_bilabials(anim: MouthAnimation, phones: Tier, pack: PhoneLookup | None, viseme_set: str,
                    params: CoarticulationParams | None = None, max_lead: float = np.inf) -> MouthAnimation:
    """``anim`` with every bilabial of ``phones`` closed in the articulation, the viseme weights (over
    ``viseme_set``'s classes) and the ARKit blendshapes (see the module). ``max_lead``: how far before
    a bilabial's start its closure may begin (a stream's lookahead less :data:`TAPER`, so that streaming
    equals offline)."""
    prm = params or CoarticulationParams()
    spans = bilabial_spans(phones, pack, prm, max_lead)
    art = anim.articulation
    values = np.array(art.values, np.float64)
    col = {c: i for i, c in enumerate(art.channels)}
    if not {"lip_close", "lip_protrude"} <= set(col):
        raise InputError(f"Closing bilabials needs lip_close and lip_protrude curves, got {list(art.channels)}.")
    if spans.size:
        values[:, col["lip_close"]] = np.maximum(values[:, col["lip_close"]], closure_floor(art.times, spans, art.fps))
    share = closure_share(values[:, col["lip_close"]])
    if prm.closure_protrusion:
        values[:, col["lip_protrude"]] = np.maximum(values[:, col["lip_protrude"]], prm.closure_protrusion * share)
    weights = keep_closure(anim.visemes.values, values[:, col["lip_close"]], anim.visemes.channels,
                           from_oculus("PP", viseme_set))
    shapes = np.array(anim.blendshapes.values, np.float64)
    bcol = {c: i for i, c in enumerate(anim.blendshapes.channels)}
    if "mouthClose" in bcol and "jawOpen" in bcol:
        jaw = shapes[:, bcol["jawOpen"]]
        shapes[:, bcol["mouthClose"]] = np.maximum(shapes[:, bcol["mouthClose"]], jaw * share)
    if "mouthFunnel" in bcol:
        shapes[:, bcol["mouthFunnel"]] *= 1.0 - share
    return dataclasses.replace(
        anim,
        articulation=_with(art, values),
        visemes=_with(anim.visemes, weights),
        blendshapes=_with(anim.blendshapes, np.clip(shapes, 0.0, 1.0)),
    )


def _with(curves: FrameCurves, values: np.ndarray) -> FrameCurves:
    return FrameCurves(curves.fps, curves.channels, values, curves.start, curves.meta)
