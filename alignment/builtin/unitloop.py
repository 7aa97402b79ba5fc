"""Place-aware units for the audio-only loop: a broad class split by the phone's viseme.

The broad classes (phones.py) are manners of articulation: a class loop cannot say p from t from k,
or m from n, which is most of what the mouth shows of consonants. A unit here is a class and the
universal (feature-derived) OCULUS_15 viseme of its phones, e.g. ``stop_voiceless.PP`` (p),
``stop_voiceless.DD`` (t), ``stop_voiceless.kk`` (k, q); the class network (classnet.py) is trained
on these units, with the context that carries place (bursts, formant transitions). A unit keeps its
class's Gaussians (``c:<class>|<state>``) and minimum duration, so the loop is built as freeloop's is.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from visemes.alignment.builtin.freeloop import MIN_SILENCE, SILENCE_UNIT, Loop, _min_frames
from visemes.alignment.builtin.features import FRAME_SECONDS
from visemes.alignment.builtin.hmm import CLOSURE, N_STATES, NOISE, SIL
from visemes.alignment.builtin.phones import CLOSURE_CLASSES, broad_class
from visemes.lang_packs import fallback_phone


@lru_cache(maxsize=4096)
def unit_of(symbol: str) -> str | None:
    """``<class>.<viseme>`` of an IPA phone, or None for a phone of no class ("other")."""
    cls = broad_class(symbol)
    if cls == "other":
        return None
    return f"{cls}.{fallback_phone(symbol).viseme}"


def unit_class(unit: str) -> str:
    return unit.split(".", 1)[0]


def unit_key(unit: str, state: int) -> str:
    return f"u:{unit}|{state}"


def build_unit_loop(units: Sequence[str]) -> tuple[Loop, Loop]:
    """The loop over silence and ``units`` twice, state for state: keyed by the network's unit keys
    (``u:<unit>|k``, ``clo``, ``sil``), and by the class Gaussians the same states use."""
    names = (SILENCE_UNIT, *units)
    net_keys: list[tuple[str, ...]] = []
    gauss_keys: list[tuple[str, ...]] = []
    unit_of_state: list[int] = []
    first, last = [], []
    for u, name in enumerate(names):
        first.append(len(net_keys))
        if name == SILENCE_UNIT:
            n = max(1, round(MIN_SILENCE / FRAME_SECONDS))
            net_keys += [(SIL,)] * n
            gauss_keys += [(SIL, NOISE)] * n
        else:
            cls = unit_class(name)
            n = _min_frames(cls)
            for j in range(n):
                k = min(N_STATES - 1, j * N_STATES // n)
                closure = k == 0 and cls in CLOSURE_CLASSES
                net_keys.append((CLOSURE,) if closure else (unit_key(name, k),))
                gauss_keys.append((CLOSURE,) if closure else (f"c:{cls}|{k}",))
        unit_of_state += [u] * n
        last.append(len(net_keys) - 1)
    arrays = (np.asarray(unit_of_state), np.asarray(first), np.asarray(last))
    return Loop(names, tuple(net_keys), *arrays), Loop(names, tuple(gauss_keys), *arrays)
