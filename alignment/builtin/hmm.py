"""HMM state chains for a transcript, and MAP-adapted diagonal-Gaussian emission models.

Each phone has ``N_STATES`` left-to-right states. Silence is one state with several Gaussian slots
(silence, breath/noise) before, between (optional) and after words. The first state of a stop or
affricate that is not utterance-initial is the closure and shares the silence Gaussian (otherwise
vowels swallow stop closures).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from visemes.alignment.builtin.phones import CLASSES, CLOSURE_CLASSES, base_symbol, broad_class
from visemes.core.timeline import Transcript

N_STATES = 3
SIL = "sil"
NOISE = "noise"
CLOSURE = "clo"
SIL_SLOTS = (SIL, NOISE)
VAR_FLOOR = 0.02


def phone_key(symbol: str, state: int) -> str:
    return f"p:{symbol}|{state}"


@dataclass(frozen=True)
class Chain:
    """A transcript's state chain (numpy arrays; one entry per state)."""

    keys: tuple[tuple[str, ...], ...]  # Gaussian keys of each state's slots
    phone_of_state: np.ndarray  # int32, -1 = silence
    skip_in: np.ndarray  # bool: may be entered from two states back
    start_ok: np.ndarray
    end_ok: np.ndarray
    enter_pen: np.ndarray  # float32 log-penalty on entering the state
    symbols: tuple[str, ...]
    word_of_phone: np.ndarray  # int32
    states_per_phone: int

    @property
    def n_states(self) -> int:
        return len(self.keys)


def build_chain(
    transcript: Transcript,
    *,
    states_per_phone: int = N_STATES,
    sil_penalty: float = 0.0,
    free_end: bool = False,
    closure_tie: bool = True,
    closure_key: str = CLOSURE,
    group: str | None = None,
) -> Chain:
    """Chain: [sil] w1 [sil] w2 ... wn [sil]; optional silences; ``free_end`` lets it stop after any word."""
    words = transcript.words
    keys: list[tuple[str, ...]] = [SIL_SLOTS]
    phone_of_state = [-1]
    skip_in = [False]
    start_ok = [True]
    end_ok = [False]
    enter_pen = [0.0]
    symbols: list[str] = []
    word_of_phone: list[int] = []
    first_phone = True
    for wi, word in enumerate(words):
        for pi, tok in enumerate(word.phones):
            sym = tok.symbol
            cls = broad_class(sym)
            for k in range(states_per_phone):
                if k == 0 and closure_tie and not first_phone and cls in CLOSURE_CLASSES and states_per_phone > 1:
                    keys.append((closure_key,))
                else:
                    key = phone_key(sym, k)
                    keys.append((f"g:{group}/{key}",) if group else (key,))
                phone_of_state.append(len(symbols))
                # the first state of the first phone of each word may be entered past an optional silence
                skip_in.append(k == 0 and pi == 0 and wi > 0)
                start_ok.append(k == 0 and pi == 0 and wi == 0)
                end_ok.append(False)
                enter_pen.append(0.0)
            symbols.append(sym)
            word_of_phone.append(wi)
            first_phone = False
        last = wi == len(words) - 1
        if free_end or last:
            end_ok[-1] = True
        keys.append(SIL_SLOTS)
        phone_of_state.append(-1)
        skip_in.append(False)
        start_ok.append(False)
        end_ok.append(free_end or last)
        enter_pen.append(0.0 if last else -sil_penalty)
    return Chain(
        keys=tuple(keys),
        phone_of_state=np.asarray(phone_of_state, np.int32),
        skip_in=np.asarray(skip_in, bool),
        start_ok=np.asarray(start_ok, bool),
        end_ok=np.asarray(end_ok, bool),
        enter_pen=np.asarray(enter_pen, np.float32),
        symbols=tuple(symbols),
        word_of_phone=np.asarray(word_of_phone, np.int32),
        states_per_phone=states_per_phone,
    )


# --- emission statistics and MAP back-off ---------------------------------------------------------


@dataclass
class Stats:
    """Sufficient statistics (count, sum, sum of squares) per Gaussian key (mutable accumulator)."""

    dims: int
    n: dict[str, float] = field(default_factory=dict)
    s1: dict[str, np.ndarray] = field(default_factory=dict)
    s2: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, key: str, frames: np.ndarray) -> None:
        if len(frames) == 0:
            return
        self.n[key] = self.n.get(key, 0.0) + float(len(frames))
        self.s1[key] = self.s1.get(key, 0.0) + frames.sum(axis=0, dtype=np.float64)
        self.s2[key] = self.s2.get(key, 0.0) + (frames.astype(np.float64) ** 2).sum(axis=0)

    def add_grouped(self, keys: Sequence[str], labels: np.ndarray, frames: np.ndarray) -> None:
        """Add ``frames`` [T, D] whose Gaussian index into ``keys`` is ``labels`` [T] (-1 = skip)."""
        ok = labels >= 0
        labels, frames = labels[ok], frames[ok].astype(np.float64)
        if len(labels) == 0:
            return
        g = len(keys)
        cnt = np.bincount(labels, minlength=g)
        # one bincount per dimension: much faster than np.add.at on large frame sets
        s1 = np.stack([np.bincount(labels, frames[:, d], minlength=g) for d in range(self.dims)], axis=1)
        sq = frames**2
        s2 = np.stack([np.bincount(labels, sq[:, d], minlength=g) for d in range(self.dims)], axis=1)
        for i in np.nonzero(cnt)[0]:
            key = keys[i]
            self.n[key] = self.n.get(key, 0.0) + float(cnt[i])
            self.s1[key] = self.s1.get(key, 0.0) + s1[i]
            self.s2[key] = self.s2.get(key, 0.0) + s2[i]

    def merge(self, other: "Stats") -> None:
        for key, n in other.n.items():
            self.n[key] = self.n.get(key, 0.0) + n
            self.s1[key] = self.s1.get(key, 0.0) + other.s1[key]
            self.s2[key] = self.s2.get(key, 0.0) + other.s2[key]


@dataclass(frozen=True)
class Prior:
    """Class-level Gaussians (``c:<class>|<state>``, ``sil``, ``noise``) the back-off ends in."""

    means: Mapping[str, np.ndarray]
    variances: Mapping[str, np.ndarray]

    def get(self, key: str, dims: int) -> tuple[np.ndarray, np.ndarray]:
        if key in self.means:
            return np.asarray(self.means[key], np.float64), np.asarray(self.variances[key], np.float64)
        return np.zeros(dims), np.ones(dims)  # features are mean/variance normalised per utterance


@dataclass(frozen=True)
class MapWeights:
    """Prior weights (in frames) of each back-off level."""

    phone: float = 200.0  # strong back-off: data per phone is the main limit (tuned on the tuning languages)
    base: float = 200.0
    cls: float = 200.0
    sil: float = 10.0
    group: float = 200.0  # a group's (language's) phone model backs off to the pooled phone model


@dataclass(frozen=True)
class Emissions:
    """Gaussians by key at every back-off level: ``p:`` phone, ``b:`` base, ``c:`` class, sil/noise."""

    means: Mapping[str, np.ndarray]
    variances: Mapping[str, np.ndarray]

    def resolve(self, key: str) -> str:
        """The most specific key with a model: group's phone -> phone -> base -> class."""
        if key in self.means:
            return key
        if key.startswith("g:"):
            key = key.split("/", 1)[1]
            if key in self.means:
                return key
        if key.startswith("p:"):
            sym, state = key[2:].rsplit("|", 1)
            base = f"b:{base_symbol(sym)}|{state}"
            if base in self.means:
                return base
            return f"c:{broad_class(sym)}|{state}"
        return key


def _map(n, s1, s2, mean0, var0, tau):
    mean = (s1 + tau * mean0) / (n + tau)
    second = (s2 + tau * (var0 + mean0**2)) / (n + tau)
    var = np.maximum(second - mean**2, VAR_FLOOR)
    return mean, var


def _map_level(means, variances, keys, stats, parents, tau) -> None:
    """:func:`_map` for many keys of one back-off level at once (one vectorised call, not one per key)."""
    if not keys:
        return
    n = np.array([st[0] for st in stats], np.float64)[:, None]
    s1 = np.stack([np.asarray(st[1], np.float64) for st in stats])
    s2 = np.stack([np.asarray(st[2], np.float64) for st in stats])
    m0 = np.stack([p[0] for p in parents])
    v0 = np.stack([p[1] for p in parents])
    mean, var = _map(n, s1, s2, m0, v0, tau)
    for i, key in enumerate(keys):
        means[key], variances[key] = mean[i], var[i]


def map_emissions(stats: Stats, prior: Prior, weights: MapWeights = MapWeights()) -> Emissions:
    """MAP estimates with back-off phone -> base symbol -> broad class -> prior."""
    d = stats.dims
    zero = np.zeros(d)
    by_level: dict[str, list[float | np.ndarray]] = {}

    def acc(key, n, s1, s2):
        cur = by_level.setdefault(key, [0.0, zero.copy(), zero.copy()])
        cur[0] += n
        cur[1] = cur[1] + s1
        cur[2] = cur[2] + s2

    group_keys = [k for k in stats.n if k.startswith("g:")]
    pooled: dict[str, list] = {}
    for key in list(stats.n) :
        target = key.split("/", 1)[1] if key.startswith("g:") else key
        cur = pooled.setdefault(target, [0.0, zero.copy(), zero.copy()])
        cur[0] += stats.n[key]
        cur[1] = cur[1] + stats.s1[key]
        cur[2] = cur[2] + stats.s2[key]
    group_stats = stats
    stats = Stats(d, {k: v[0] for k, v in pooled.items()}, {k: v[1] for k, v in pooled.items()},
                  {k: v[2] for k, v in pooled.items()})
    phone_keys = [k for k in stats.n if k.startswith("p:")]
    for key in phone_keys:
        sym, state = key[2:].rsplit("|", 1)
        n, s1, s2 = stats.n[key], stats.s1[key], stats.s2[key]
        acc(f"b:{base_symbol(sym)}|{state}", n, s1, s2)
        acc(f"c:{broad_class(sym)}|{state}", n, s1, s2)
    means: dict[str, np.ndarray] = {}
    variances: dict[str, np.ndarray] = {}
    states = sorted({k.rsplit("|", 1)[1] for k in phone_keys} | {str(s) for s in range(N_STATES)})
    empty = (0.0, zero, zero)
    cls_keys = [f"c:{cls}|{state}" for cls in CLASSES for state in states]
    _map_level(means, variances, cls_keys, [by_level.get(k, empty) for k in cls_keys],
               [prior.get(k, d) for k in cls_keys], weights.cls)
    base_keys = [k for k in by_level if k.startswith("b:")]
    parents = [f"c:{broad_class(k[2:].rsplit('|', 1)[0])}|{k.rsplit('|', 1)[1]}" for k in base_keys]
    _map_level(means, variances, base_keys, [by_level[k] for k in base_keys],
               [(means[p], variances[p]) for p in parents], weights.base)
    parents = [f"b:{base_symbol(k[2:].rsplit('|', 1)[0])}|{k.rsplit('|', 1)[1]}" for k in phone_keys]
    _map_level(means, variances, phone_keys, [(stats.n[k], stats.s1[k], stats.s2[k]) for k in phone_keys],
               [(means[p], variances[p]) for p in parents], weights.phone)
    for key in SIL_SLOTS:
        m0, v0 = prior.get(key, d)
        n, s1, s2 = stats.n.get(key, 0.0), stats.s1.get(key, zero), stats.s2.get(key, zero)
        means[key], variances[key] = _map(n, s1, s2, m0, v0, weights.sil)
    for key in group_keys:
        parent = key.split("/", 1)[1]
        means[key], variances[key] = _map(group_stats.n[key], group_stats.s1[key], group_stats.s2[key],
                                          means[parent], variances[parent], weights.group)
    # stop closures back off to silence: quiet, but often with a voice bar or room noise
    n, s1, s2 = stats.n.get(CLOSURE, 0.0), stats.s1.get(CLOSURE, zero), stats.s2.get(CLOSURE, zero)
    means[CLOSURE], variances[CLOSURE] = _map(n, s1, s2, means[SIL], variances[SIL], weights.sil)
    return Emissions(means, variances)


# --- one affine transform for the whole file (few parameters: cannot learn a wrong transcript) --------


def affine_prior(stats: Stats, prior: Prior, tau: float) -> Prior:
    """The prior's speech Gaussians moved by one per-dimension transform ``mean' = a * mean + b`` (and
    variances scaled by one factor per dimension), fitted to the file's aligned frames.

    An MLLR-like speaker/channel adaptation with 2-3 numbers per feature dimension shared by every
    phone: what a corpus learns from many files that a single file cannot (its class Gaussians are
    the synthetic prior's). ``tau`` frames of pseudo-data pull the transform towards identity.
    Silence and noise keep their own MAP adaptation.
    """
    d = stats.dims
    keys = [k for k in stats.n if k.startswith("p:") and stats.n[k] > 0]
    if not keys or not prior.means:
        return prior
    parents = [f"c:{broad_class(k[2:].rsplit('|', 1)[0])}|{k.rsplit('|', 1)[1]}" for k in keys]
    mv = [prior.get(p, d) for p in parents]
    mu = np.stack([m for m, _ in mv])  # [K, D]
    iv = 1.0 / np.stack([v for _, v in mv])
    n = np.array([stats.n[k] for k in keys])[:, None]
    s1 = np.stack([stats.s1[k] for k in keys])
    s2 = np.stack([stats.s2[k] for k in keys])
    # weighted least squares per dimension for (a, b), ridge towards (1, 0) with tau frames
    w = n * iv
    saa = (w * mu * mu).sum(0)
    sab = (w * mu).sum(0)
    sbb = w.sum(0)
    ra = (iv * mu * s1).sum(0)
    rb = (iv * s1).sum(0)
    reg_a = tau * saa / max(float(n.sum()), 1.0)
    reg_b = tau * sbb / max(float(n.sum()), 1.0)
    det = (saa + reg_a) * (sbb + reg_b) - sab**2
    a = ((ra + reg_a) * (sbb + reg_b) - sab * rb) / det
    b = ((saa + reg_a) * rb - sab * (ra + reg_a)) / det
    mean_new = a * mu + b
    # residual variance relative to the prior's: one scale per dimension
    resid = (iv * (s2 - 2 * mean_new * s1 + n * mean_new**2)).sum(0)
    scale = (resid + tau) / (float(n.sum()) + tau)
    scale = np.clip(scale, 0.25, 4.0)
    means = dict(prior.means)
    variances = dict(prior.variances)
    for key in prior.means:
        if key.startswith("c:"):
            means[key] = a * np.asarray(prior.means[key]) + b
            variances[key] = np.asarray(prior.variances[key]) * scale
    return Prior(means, variances)
