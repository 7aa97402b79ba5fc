"""A free phone-class loop: Viterbi over an ergodic loop of broad classes and silence.

No transcript: every broad class of :mod:`phones` (and silence) is a unit of ``frames`` left-to-right
states that the path must pass through (a minimum duration) using the class's three state Gaussians
(``c:<class>|0..2``; a stop's first part is the closure, as in the forced chains); a unit ends into any
unit's first state at a switch penalty. The same models as the forced aligner, so the loop's best path
is both a recogniser of what the mouth must do (audio-only mode) and the competitor of a forced path in
a likelihood-ratio test of the transcript (confidence.py).

Decoding is numpy (one vectorised step per 5-ms frame over ~100 states): fast enough for minutes of
audio, and no compile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from visemes.alignment.builtin.durations import MIN_DURATION
from visemes.alignment.builtin.features import FRAME_SECONDS
from visemes.alignment.builtin.hmm import (
    CLOSURE,
    N_STATES,
    NOISE,
    SIL,
    Emissions,
    MapWeights,
    Prior,
    Stats,
    map_emissions,
)
from visemes.alignment.builtin.phones import CLASSES, CLOSURE_CLASSES, VOWEL_CLASSES

SILENCE_UNIT = "sil"
#: log-penalty (nats) on entering a unit: fewer spurious one-unit flickers (see benchmarks/audio_only.py)
SWITCH_PENALTY = 16.0
#: silence lasts at least this long in the loop (a stop closure inside a word is the class's own state)
MIN_SILENCE = 0.030
NEG = -1e30
#: unsupervised EM passes on the file (0: the prior as it is); see benchmarks/audio_only.py
EM_PASSES = 2
#: a quiet stretch at least this long is a pause (silence only), not a stop closure
PAUSE_SECONDS = 0.150
#: variance added to the class models before decoding (features are unit-variance per utterance);
#: tuned on 29 files of ces/ibo/ben/eus (benchmarks/audio_only.py): 0 -> 0.647, 0.5 -> 0.685, 1 -> 0.680,
#: 2 -> 0.620 frame accuracy
VARIANCE_ADD = 0.5


def pause_frames() -> int:
    return round(PAUSE_SECONDS / FRAME_SECONDS)


def broadened(em: Emissions, add: float) -> Emissions:
    """The class Gaussians with ``add`` on every variance (silence's as it is): models made from clean
    synthetic speech are too sharp for real recordings, where a narrow wrong class otherwise wins."""
    return Emissions(em.means, {k: (np.asarray(v) + add if k.startswith("c:") else v) for k, v in em.variances.items()})


def _min_frames(cls: str) -> int:
    seconds = MIN_DURATION["V"] if cls in VOWEL_CLASSES else MIN_DURATION["S"]
    return max(N_STATES, round(seconds / FRAME_SECONDS))


@dataclass(frozen=True)
class Loop:
    """The loop's states: Gaussian keys per state (max over slots), unit of each state, unit bounds."""

    units: tuple[str, ...]
    keys: tuple[tuple[str, ...], ...]  # per state
    unit_of_state: np.ndarray  # int
    first: np.ndarray  # first state of each unit
    last: np.ndarray  # last state of each unit

    @property
    def n_states(self) -> int:
        return len(self.keys)


def build_loop(classes: Sequence[str] = tuple(c for c in CLASSES if c != "other")) -> Loop:
    """Units: silence (sil/noise slots) and each class in ``classes`` (a language hint may narrow them)."""
    units = (SILENCE_UNIT, *classes)
    keys: list[tuple[str, ...]] = []
    unit_of: list[int] = []
    first, last = [], []
    for u, name in enumerate(units):
        first.append(len(keys))
        if name == SILENCE_UNIT:
            n = max(1, round(MIN_SILENCE / FRAME_SECONDS))
            keys += [(SIL, NOISE)] * n
        else:
            n = _min_frames(name)
            for j in range(n):
                k = min(N_STATES - 1, j * N_STATES // n)
                keys.append((CLOSURE,) if k == 0 and name in CLOSURE_CLASSES else (f"c:{name}|{k}",))
        unit_of += [u] * n
        last.append(len(keys) - 1)
    return Loop(units, tuple(keys), np.asarray(unit_of), np.asarray(first), np.asarray(last))


def _gauss_loglik(x: np.ndarray, means: np.ndarray, var: np.ndarray) -> np.ndarray:
    """[T, G] diagonal-Gaussian log-likelihoods (float64)."""
    iv = 1.0 / var
    ln = -0.5 * np.log(2 * np.pi * var).sum(axis=1)
    return -0.5 * ((x**2) @ iv.T - 2 * x @ (means * iv).T + (means**2 * iv).sum(axis=1)) + ln


def state_loglik(feats: np.ndarray, loop: Loop, em: Emissions) -> np.ndarray:
    """[T, S] per-state log-likelihoods under ``em`` (max over a state's slots)."""
    distinct = sorted({k for slots in loop.keys for k in slots})
    col = {k: i for i, k in enumerate(distinct)}
    means = np.stack([np.asarray(em.means[em.resolve(k)], np.float64) for k in distinct])
    var = np.stack([np.asarray(em.variances[em.resolve(k)], np.float64) for k in distinct])
    ll = _gauss_loglik(feats.astype(np.float64), means, var)
    out = np.full((len(feats), loop.n_states), NEG)
    for s, slots in enumerate(loop.keys):
        out[:, s] = ll[:, [col[k] for k in slots]].max(axis=1)
    return out


def viterbi(ll: np.ndarray, loop: Loop, switch_penalty: float = SWITCH_PENALTY) -> tuple[np.ndarray, float]:
    """Best state path [T] through the loop and its log-likelihood (emissions minus switch penalties).

    Transitions: stay in a state, advance to the next state of the unit, or from a unit's last state
    enter any unit's first state (``-switch_penalty``; re-entering the same unit too). The path starts
    in a first state and ends in a last state (every unit it uses is complete), unless the audio is
    shorter than the shortest unit.
    """
    t_len, s = ll.shape
    is_first = np.zeros(s, bool)
    is_first[loop.first] = True
    is_last = np.zeros(s, bool)
    is_last[loop.last] = True
    delta = np.where(is_first, ll[0], NEG)
    # back-pointers: 0 stay, 1 advance, 2 entered from the best last state of the previous frame
    bp = np.zeros((t_len, s), np.int8)
    best_last = np.zeros(t_len, np.int64)
    for t in range(1, t_len):
        adv = np.concatenate([[NEG], delta[:-1]])
        adv[is_first] = NEG
        j = int(np.argmax(np.where(is_last, delta, NEG)))
        best_last[t] = j
        enter = np.where(is_first, delta[j] - switch_penalty, NEG)
        cand = np.stack([delta, adv, enter])
        choice = np.argmax(cand, axis=0)
        bp[t] = choice
        delta = cand[choice, np.arange(s)] + ll[t]
    final = np.where(is_last, delta, NEG)
    if final.max() <= NEG / 2:
        final = delta
    state = int(np.argmax(final))
    score = float(final[state])
    path = np.zeros(t_len, np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = state
        c = bp[t, state]
        state = state if c == 0 else state - 1 if c == 1 else int(best_last[t])
    return path, score


@dataclass(frozen=True)
class LoopSegment:
    unit: str
    start: int  # first frame
    end: int  # one past the last frame
    loglik: float  # per frame, per dimension, on the path
    margin: float  # per frame and dim: the unit's own best state minus the best state of any other unit


def segments(path: np.ndarray, ll: np.ndarray, loop: Loop) -> list[LoopSegment]:
    """Runs of one unit on ``path`` (a re-entered unit starts a new run) with fit and margin scores."""
    units = loop.unit_of_state[path]
    t_len, d = len(path), 1
    starts = [0] + [t for t in range(1, t_len) if units[t] != units[t - 1] or
                    (path[t] == loop.first[units[t]] and path[t - 1] != path[t])]
    bounds = starts + [t_len]
    # best state per unit and frame: the margin of the chosen unit over its best rival
    per_unit = np.full((t_len, len(loop.units)), NEG)
    for u in range(len(loop.units)):
        per_unit[:, u] = ll[:, loop.unit_of_state == u].max(axis=1)
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        u = int(units[a])
        own = per_unit[a:b, u]
        rival = np.delete(per_unit[a:b], u, axis=1).max(axis=1)
        on_path = ll[np.arange(a, b), path[a:b]]
        out.append(LoopSegment(loop.units[u], a, b, float(on_path.mean()) / d, float((own - rival).mean()) / d))
    return out


def force_silence(ll: np.ndarray, loop: Loop, mask: np.ndarray | None) -> np.ndarray:
    """``ll`` with only the silence unit allowed at the frames of ``mask`` (e.g. long quiet stretches)."""
    if mask is None or not mask.any():
        return ll
    out = ll.copy()
    speech_states = loop.unit_of_state != loop.units.index(SILENCE_UNIT)
    out[np.ix_(mask, speech_states)] = NEG
    return out


def quiet_mask(energy: np.ndarray, min_frames: int) -> np.ndarray:
    """Frames in runs of at least ``min_frames`` below the energy threshold of the aligner's speech
    span (between the quiet and loud levels), and the quiet lead-in and tail: pauses, not closures."""
    lo, hi = np.percentile(energy, 5), np.percentile(energy, 95)
    quiet = energy <= lo + 0.3 * (hi - lo)
    out = np.zeros(len(energy), bool)
    t = 0
    while t < len(energy):
        if not quiet[t]:
            t += 1
            continue
        u = t
        while u < len(energy) and quiet[u]:
            u += 1
        if u - t >= min_frames or t == 0 or u == len(energy):
            out[t:u] = True
        t = u
    return out


def adapt_loop(feats: Sequence[np.ndarray], prior: Prior, loop: Loop, *, iterations: int = 3,
               weights: MapWeights = MapWeights(), switch_penalty: float = SWITCH_PENALTY,
               silence: Sequence[np.ndarray | None] | None = None) -> Emissions:
    """Unsupervised Viterbi EM on the loop from ``prior``: decode, re-estimate the class (and silence)
    Gaussians from the frames each state took, MAP towards the prior; ``iterations`` passes.
    ``silence``: per file, frames where only silence may be (:func:`force_silence`)."""
    d = feats[0].shape[1]
    em = map_emissions(Stats(d), prior, weights)
    silence = list(silence) if silence is not None else [None] * len(feats)
    for _ in range(iterations):
        stats = Stats(d)
        for x, mask in zip(feats, silence):
            ll = force_silence(state_loglik(x, loop, em), loop, mask)
            path, _ = viterbi(ll, loop, switch_penalty)
            keys = sorted({k for slots in loop.keys for k in slots})
            kidx = {k: i for i, k in enumerate(keys)}
            # a silence state's frames go to whichever of its slots fits them best
            label = np.empty(len(x), np.int64)
            slot_ll = {k: None for k in (SIL, NOISE)}
            for k in slot_ll:
                m, v = np.asarray(em.means[k]), np.asarray(em.variances[k])
                slot_ll[k] = _gauss_loglik(x.astype(np.float64), m[None], v[None])[:, 0]
            noisy = slot_ll[NOISE] > slot_ll[SIL]
            for t, st in enumerate(path):
                slots = loop.keys[st]
                label[t] = kidx[(NOISE if noisy[t] else SIL) if len(slots) > 1 else slots[0]]
            stats.add_grouped(keys, label, x)
        em = _class_emissions(stats, prior, weights)
    return em


def _class_emissions(stats: Stats, prior: Prior, weights: MapWeights) -> Emissions:
    """MAP class-level Gaussians from class-keyed statistics (map_emissions expects phone keys: give it
    each class's frames under a stand-in phone key of that class, so they land on ``c:<class>``)."""
    d = stats.dims
    staged = Stats(d)
    for key, n in stats.n.items():
        if key.startswith("c:"):
            cls, state = key[2:].rsplit("|", 1)
            staged_key = f"p:{_REPRESENTATIVE[cls]}|{state}"
        else:
            staged_key = key
        staged.n[staged_key] = staged.n.get(staged_key, 0.0) + n
        staged.s1[staged_key] = staged.s1.get(staged_key, 0.0) + stats.s1[key]
        staged.s2[staged_key] = staged.s2.get(staged_key, 0.0) + stats.s2[key]
    em = map_emissions(staged, prior, weights)
    # keep the class and silence levels only: the stand-in phones are no real phones
    keep = {k for k in em.means if not k.startswith(("p:", "b:"))}
    return Emissions({k: em.means[k] for k in keep}, {k: em.variances[k] for k in keep})


#: One IPA phone per broad class, the class's most common member across languages: what the audio-only
#: timeline writes for a recognised class (its viseme comes from the language pack, like any phone).
#: A class is a manner of articulation; place (p vs t vs k) is not in the acoustic models at this level,
#: so a stop shows the alveolar (most frequent) closure shape.
_REPRESENTATIVE = {
    "vowel_high_front": "i", "vowel_high_back": "u", "vowel_mid_front": "e", "vowel_mid_back": "o",
    "vowel_low": "a", "nasal": "n", "liquid": "l", "glide": "j", "stop_voiceless": "t", "stop_voiced": "d",
    "affricate": "t͡ʃ", "fricative_voiceless": "f", "fricative_voiced": "v", "sibilant": "s",
    "glottal": "h", "other": "ə",
}


def representative(cls: str) -> str:
    return _REPRESENTATIVE[cls]
