"""Per-frame viseme weights in any viseme set, from Oculus weights: the one rule for every curve source.

Both curve sources make Oculus 15 weights first: the coarticulation rules (one visual dominance per
phone) and the neural model (its only viseme head). :func:`weights_in_set` turns them into another set
the same way for both, so ``animate(viseme_set="rhubarb")`` means the same with and without the model.

The rule keeps the phone-level distinctions the visemes tier makes (``phone_to_viseme``: Rhubarb's
vowels by jaw and rounding, Azure's diphthongs), which a class-to-class table cannot: the weight of
Oculus class ``c`` at a frame goes to the set class of the nearest phone whose Oculus class is ``c``
(the phone that weight stands for); silence goes to the set's silence class, and a class no phone of
the utterance has goes to its class-level counterpart (``from_oculus``). Weights keep summing to 1.
"""

from __future__ import annotations

import numpy as np

from visemes.core.curves import FrameCurves
from visemes.core.errors import InputError
from visemes.core.timeline import Tier
from visemes.core.vocabulary import OCULUS_15, SILENCE, check_set, classes
from visemes.lang_packs import PhoneLookup, fallback_phone
from visemes.mouth.visemesets import from_oculus, phone_to_viseme


def weights_in_set(oculus: FrameCurves, phones: Tier, pack: PhoneLookup | None, set_name: str) -> FrameCurves:
    """``oculus`` (weights over the Oculus 15 classes, any channel order) as weights over
    ``classes(set_name)``; ``phones`` is the timed phones tier the curves animate and ``pack`` maps its
    symbols (None: the universal fallback specs). Oculus in, Oculus out: unchanged."""
    check_set(set_name)
    if set(oculus.channels) != set(OCULUS_15):
        raise InputError(f"Viseme weights to map must be over the Oculus 15 classes, got {list(oculus.channels)}.")
    if set_name == "oculus":
        return oculus
    target = classes(set_name)
    column = {c: i for i, c in enumerate(target)}
    times = oculus.times
    out = np.zeros((oculus.n_frames, len(target)), np.float64)
    by_class: dict[str, list[tuple[float, float, str]]] = {}
    for iv in phones:
        spec = pack.phone(iv.label) if pack is not None else fallback_phone(iv.label)
        by_class.setdefault(spec.viseme, []).append((iv.start, iv.end, phone_to_viseme(iv.label, spec, set_name)))
    for j, name in enumerate(oculus.channels):
        weight = np.asarray(oculus.values[:, j], np.float64)
        spans = by_class.get(name) if name != "sil" else None
        if not spans:
            fixed = SILENCE[set_name] if name == "sil" else from_oculus(name, set_name)
            out[:, column[fixed]] += weight
            continue
        out[np.arange(len(times)), [column[s] for s in _nearest_label(spans, times)]] += weight
    meta = {**dict(oculus.meta), "viseme_set": set_name, "mapped_from": "oculus"}
    return FrameCurves(oculus.fps, target, out.astype(np.float32), oculus.start, meta)


def _nearest_label(spans: list[tuple[float, float, str]], times: np.ndarray) -> list[str]:
    """For each time, the label of the span nearest to it (0 inside a span; ties to the earlier one)."""
    spans = sorted(spans)
    starts = np.array([s for s, _, _ in spans])
    ends = np.array([e for _, e, _ in spans])
    after = np.clip(np.searchsorted(starts, times, side="right"), 0, len(spans) - 1)  # first span starting later
    before = np.clip(after - 1, 0, len(spans) - 1)
    before = np.where(starts[after] <= times, after, before)  # the last span that starts at or before t
    dist_before = np.maximum(times - ends[before], 0.0) + np.maximum(starts[before] - times, 0.0)
    dist_after = np.maximum(starts[after] - times, 0.0) + np.maximum(times - ends[after], 0.0)
    pick = np.where(dist_after < dist_before, after, before)
    return [spans[k][2] for k in pick]
