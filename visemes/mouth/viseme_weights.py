"""Viseme weights that keep the articulation's truth.

An engine that only receives viseme weights (Oculus/OpenXR, MPEG-4) shows the weighted mix of its
per-viseme mouth shapes. Weights from the dominance functions alone say which phone is "on", not
what the mouth does: a 20 ms /p/ between two vowels gets PP at 0.7 and the rig never shuts, and a
reduced vowel shows its full viseme. Two steps fix that, both from the articulation curves:

* :func:`fit_weights` (Oculus classes only) chooses, per frame, the weights on the simplex whose mix
  of the fixed :func:`viseme_shapes` best reproduces the articulation (jaw, lips, tongue and the
  preview's lip aperture), pulled towards the dominance weights (``prior``) so that a class keeps
  its phone where the shapes cannot tell (a small ridge term). Solved for all frames at once: the
  closed-form minimiser under the sum-to-1 constraint alone, projected onto the simplex, then a few
  accelerated projected-gradient (FISTA) steps with the exact Euclidean projection onto the simplex
  (Duchi et al. 2008); each frame is solved on its own with a fixed step count, so any split of the
  frames (streaming) gives the same weights.
* :func:`keep_closure` (every set): where the lips are in contact, the set's bilabial class (Oculus
  PP, Azure 21, Rhubarb A, MPEG-4 1) takes the frame: its weight is at least
  :func:`closure_share` of ``lip_close`` (1 at contact, :data:`~visemes.mouth.arkit.CONTACT`), the
  others are scaled down to keep the sum 1.

The viseme shapes are each Oculus class's canonical phone (Meta's Oculus viseme reference: sil, PP
"p", FF "f", TH "th", DD "t", kk "k", CH "ch/sh", SS "s", nn "n", RR "r", aa "A", E "e", ih "ih",
oh "oh", ou "ou") with its en-US pack target: a fixed table, the same for every language, because
the engine's morph targets do not change with the language.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from visemes import lang_packs
from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET
from visemes.core.vocabulary import OCULUS_15
from visemes.mouth.arkit import CONTACT
from visemes.mouth.rowwise import rowwise_matmul

#: The canonical en-US phone of every Oculus class (the reference shapes of the visemes).
CANONICAL_PHONE: dict[str, str] = {
    "PP": "p", "FF": "f", "TH": "θ", "DD": "t", "kk": "k", "CH": "ʃ", "SS": "s", "nn": "n",
    "RR": "ɹ", "aa": "ɑː", "E": "ɛ", "ih": "ɪ", "oh": "ɔː", "ou": "uː",
}
#: the PP shape's jaw: the jaw is free during a bilabial closure (the lips close) and stays at its
#: neighbours' height, which the coarticulation rules give as 0.18 on average at lip contact (mean
#: jaw_open at contact over 10 minutes of random en-us phones, benchmarks/coarticulation_speed.py's
#: random_phones, seeds 0 and 1: 0.183, 0.179; a test keeps the two in step). Not the schwa-like
#: mid height 0.3: bilabials sit mostly next to consonants and close vowels, and a fixed 0.3 made
#: every closure frame of the Oculus route show a jaw the curves do not have
CLOSURE_JAW = 0.18
#: the lip protrusion of a bilabial closure: lips pressed together push their tissue forward (the
#: coarticulation model's ``closure_protrusion``; the PP shape shows it)
CLOSURE_PROTRUSION = 0.3
#: lip_close from which a closure starts to own the frame (below: an approach, e.g. Spanish β at 0.6;
#: a wide ramp would hand the bilabial class frames whose jaw and rounding the PP shape cannot show)
CLOSURE_ONSET = 0.8

_P = {name: i for i, name in enumerate(ARTICULATION_PARAMS)}
#: how much each fitted feature counts (articulation units; the aperture feature is scaled to ~[0, 1]):
#: what a viewer reads first (jaw, lip aperture, protrusion and spreading) most
_FEATURE_WEIGHTS = {
    "jaw_open": 8.0, "lip_spread": 3.0, "lip_round": 1.0, "lip_protrude": 6.0, "lip_close": 1.0,
    "lower_lip_tuck": 1.0, "upper_lip_raise": 0.5, "tongue_tip": 0.1, "tongue_out": 0.1,
}
_APERTURE_WEIGHT = 5.0
_APERTURE_SCALE = 1.0 / 48.0  # the preview's aperture in pixels of a 320-wide panel -> about [0, 1]


@functools.lru_cache(maxsize=1)
def viseme_shapes() -> np.ndarray:
    """``[15, 9]``: the articulation of every Oculus class (OCULUS_15 order; sil is rest)."""
    pack = lang_packs.load("en-US")
    rows = []
    for cls in OCULUS_15:
        if cls == "sil":
            rows.append([REST_TARGET[p] for p in ARTICULATION_PARAMS])
        else:
            target = dict(pack.phone(CANONICAL_PHONE[cls]).target)
            if cls == "PP":  # a closure as the rules make it: the jaw at its context height, lips forward
                target["jaw_open"] = CLOSURE_JAW
                target["lip_protrude"] = CLOSURE_PROTRUSION
            rows.append([float(target.get(p, REST_TARGET[p])) for p in ARTICULATION_PARAMS])
    out = np.clip(np.array(rows, dtype=np.float64), 0.0, 1.0)
    out.setflags(write=False)
    return out


def lip_aperture(values: np.ndarray) -> np.ndarray:
    """The inner lip opening the preview draws (``visemes.formats.preview.mouth_geometry``'s
    ``aperture_height``, pixels of a 320-wide panel), vectorised over frames; the benchmark and the
    tests check it against ``mouth_geometry``."""
    v = np.clip(np.asarray(values, np.float64), 0.0, 1.0)
    jaw, close = v[..., _P["jaw_open"]], v[..., _P["lip_close"]]
    tuck, lraise = v[..., _P["lower_lip_tuck"]], v[..., _P["upper_lip_raise"]]
    open_total = 64.0 * jaw * (1.0 - close) * (1.0 - 0.6 * tuck)
    up = 0.33 * open_total + (7.0 * lraise + 5.0 * tuck) * (1.0 - close)
    down = 0.67 * open_total
    down = (1.0 - tuck) * down + tuck * np.minimum(down, 5.0)
    return up + down


def _features(values: np.ndarray) -> np.ndarray:
    w = np.sqrt(np.array([_FEATURE_WEIGHTS[p] for p in ARTICULATION_PARAMS]))
    ap = lip_aperture(values)[..., None] * (_APERTURE_SCALE * np.sqrt(_APERTURE_WEIGHT))
    return np.concatenate([np.asarray(values, np.float64) * w, ap], axis=-1)


def project_simplex(v: np.ndarray) -> np.ndarray:
    """Row-wise Euclidean projection onto {w >= 0, sum w = 1} (Duchi et al. 2008)."""
    n, k = v.shape
    u = np.ascontiguousarray(np.sort(v, axis=1)[:, ::-1].T)  # [K, T], descending per frame
    # running sums over the few classes, each a contiguous vector op (cumsum along a short axis is slow)
    css = np.empty_like(u)
    acc = np.full(n, -1.0, dtype=u.dtype)
    rho = np.zeros(n, dtype=np.int64)
    for i in range(k):
        acc = acc + u[i]
        css[i] = acc
        rho += u[i] * (i + 1) > acc  # u_i - (sum_{j<=i} u_j - 1) / i > 0: true for a prefix of i
    theta = (css[rho - 1, np.arange(n)] / rho).astype(v.dtype)  # keep float32 float32 (mixed matmul is slow)
    return np.maximum(v - theta[:, None], 0.0)


@functools.lru_cache(maxsize=8)
def _fit_system(ridge: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """For one ridge: the shapes' features ``[K, F]``, the FISTA step matrix (float32), the closed-form
    equality-constrained solution ``w = g @ solve + offset``, and the gradient step 2 / L."""
    shapes = _features(viseme_shapes())
    gram = shapes @ shapes.T
    k = len(gram)
    hessian = gram + ridge * np.eye(k)
    step_size = 2.0 / (2.0 * (float(np.linalg.eigvalsh(gram).max()) + ridge))
    step = (np.eye(k) - step_size * hessian).astype(np.float32)
    # min ||F w - x||^2 + ridge ||w - p||^2 subject to sum(w) = 1 only (Lagrange): w = H^-1 (g - mu 1)
    inv = np.linalg.inv(hessian)
    col = inv @ np.ones(k)
    total = float(col.sum())
    solve = inv - np.outer(col, col) / total
    offset = col / total
    for a in (shapes, step, solve, offset):
        a.setflags(write=False)
    return shapes, step, solve, offset, step_size


def fit_weights(values: np.ndarray, prior: np.ndarray, *, ridge: float = 0.02, iterations: int = 40) -> np.ndarray:
    """Oculus weights ``[T, 15]`` whose mix of :func:`viseme_shapes` reproduces ``values[T, 9]``,
    regularised towards ``prior[T, 15]`` (weights on the simplex) with strength ``ridge``.

    Every frame is its own small convex problem (frames never mix, so any split of the frames gives
    the same weights). It starts from the closed-form minimiser with only the sum-to-1 constraint,
    projected onto the simplex (one product for all frames), then takes ``iterations`` accelerated
    projected-gradient (FISTA) steps. The directions still converging after them are mostly ones
    the shapes cannot tell apart (they change the ridge term more than what the mix shows): on the
    development articulography the shown aperture, jaw and protrusion agree to 0.003 r after 10, 15,
    25 or 40 steps; 40 keep every shape within 0.05 of itself from a uniform prior (the tests).
    """
    shapes, step, solve, offset, step_size = _fit_system(float(ridge))
    prior = np.asarray(prior, np.float64)
    linear = rowwise_matmul(_features(values), shapes.T)
    linear += ridge * prior  # g: the objective's linear term, per frame
    w = project_simplex(rowwise_matmul(linear, solve) + offset).astype(np.float32)
    # float32 halves the time; the problem is convex and well inside float32's precision
    linear = (step_size * linear).astype(np.float32)
    y, t = w, 1.0
    z = np.empty_like(w)
    for _ in range(iterations):
        rowwise_matmul(y, step, out=z)
        z += linear
        w_next = project_simplex(z)
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        y = w_next + np.float32((t - 1.0) / t_next) * (w_next - w)
        w, t = w_next, t_next
    return w.astype(np.float64)


def closure_share(lip_close: np.ndarray) -> np.ndarray:
    """0 below :data:`CLOSURE_ONSET`, 1 from contact (:data:`CONTACT`) on, smooth (C1) in between."""
    x = np.clip((np.asarray(lip_close, np.float64) - CLOSURE_ONSET) / (CONTACT - CLOSURE_ONSET), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def keep_closure(weights: np.ndarray, lip_close: np.ndarray, names: Sequence[str], bilabial: str) -> np.ndarray:
    """``weights[T, K]`` over ``names`` with the ``bilabial`` class at least :func:`closure_share` of
    ``lip_close``; the other classes keep their proportions and the rows still sum to 1."""
    w = np.asarray(weights, np.float64).copy()
    k = list(names).index(bilabial)
    floor = closure_share(lip_close)
    old = w[:, k]
    new = np.maximum(old, floor)
    rest = 1.0 - old
    scale = np.where(rest > 1e-12, (1.0 - new) / np.maximum(rest, 1e-12), 0.0)
    w *= scale[:, None]
    w[:, k] = new
    return w


def oculus_to_articulation(weights: np.ndarray) -> np.ndarray:
    """What an engine shows from Oculus weights alone: the weighted mix of :func:`viseme_shapes`."""
    return rowwise_matmul(np.asarray(weights, np.float64), viseme_shapes())
