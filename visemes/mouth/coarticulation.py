"""Dominance-function coarticulation: timed phones -> smooth per-frame mouth curves.

The model follows Cohen & Massaro (1993, "Modeling coarticulation in synthetic visual speech"): every
segment ``s`` has, for every articulatory parameter ``p``, a target ``T[s,p]`` and a dominance
function ``D[s,p](t)``; the parameter's value at time ``t`` is the dominance-weighted mean of the
targets::

    F[p](t) = sum_s D[s,p](t) * T[s,p] / sum_s D[s,p](t)
    D[s,p](t) = alpha[s,p] * exp(-theta[s,p,side] * d_s(t) ** c) * taper(d_s(t))

Changes to the original, each for a stated reason:

* ``d_s(t)`` is the distance from the segment's *core* (its central ``core_fraction`` of the interval),
  not from its centre, so long vowels hold their target and short phones still peak;
* ``theta`` differs before the core (anticipatory) and after it (carry-over), per phone class and
  parameter group, so rounding of a rounded vowel spreads early across the consonants before it;
* magnitudes depend on the phone class *and* on whether the phone specifies the parameter: a
  consonant whose target leaves lip shape or tongue neutral (``k`` for rounding) gets a small
  magnitude there and lets its neighbours decide (the "unspecified feature" of coarticulation
  theory), while bilabial closure and labiodental tuck get very high magnitudes;
* pauses are rest segments (``REST_TARGET``) whose magnitude grows with the pause length, so a short
  break barely moves the mouth and a long one returns it to rest;
* ``taper`` is a smooth (C1) window that reaches 0 at the segment's reach (``reach_nats`` divided by
  its slowest rate, at most ``window`` seconds: where its dominance has decayed by ~1000x anyway), so
  each segment only touches nearby frames: the sums are sparse and the whole model is a few
  vectorised numpy passes;
* after blending, every bilabial gets a smooth bump on ``lip_close`` that guarantees contact
  (>= ``closure_min``) at the frame nearest its centre, even for a 20 ms /p/ at 24 fps, because a
  missed closure is the most visible lip-sync error.

Changes for realism against articulography (``benchmarks/mouth_realism.py``), each a general phonetic
fact rather than a fit to one speaker:

* jaw and lips are separate actions (JALI, Edwards et al. 2016; Browman & Goldstein's articulatory
  phonology: the lip-aperture gesture is achieved by lips *and* jaw, with the jaw free where the lips do
  the work): a bilabial's jaw magnitude is low, so the jaw stays near its neighbours' height while the
  lips close, and coronal obstruents keep theirs: sibilants and the coronal stops /t d/ (the DD class)
  have the highest, least variable jaw of all consonants (Keating, Lindblom, Lubker & Kreiman 1994, English
  and Swedish VCVs), so both get the same high jaw magnitude, while /n l/ (more variable there) and the
  other consonants let the vowels move the jaw;
* vowel undershoot (Lindblom 1963): a vowel reaches ``1 - exp(-duration / undershoot_time)`` of its jaw
  and lip displacement from a mid, schwa-like neutral, so short open vowels open less and short close
  vowels close less, while long vowels still reach their targets;
* stress (when the phones carry ``stress`` attributes at all): unstressed vowels are reduced toward that
  neutral (``unstressed_jaw``, ``unstressed_lips``) and dominate less, as in Lindblom's and de Jong's
  (1995) accounts of prosodic strengthening; secondary stress is half-way;
* lip rounding is anticipated over a long span (``anticipation_span``: Benguerel & Cowan 1974 found it
  up to six consonants ahead) and passes through consonants whose lip spreading is incidental (a
  sibilant's slight spread is not a lip target; Daniloff & Moll 1968), which the higher
  ``specified_threshold`` expresses; it does not pass through a phone with the opposite lip posture
  (a spread vowel before a rounded one: Henke's 1966 look-ahead model with blocking, ``block_rate``),
  and languages with a rounding contrast anticipate further (the packs' ``[mouth]`` tables, :func:`params_for`);
* consonants with a secondary articulation (ˤ pharyngealized, as the Arabic emphatics; ʷ labialized)
  always specify their lip shape, and it spreads over the neighbouring vowels (``secondary_shape_rate``);
* with audio, loudness scales the jaw's opening and long silences rest the mouth
  (:mod:`visemes.mouth.audio_effort`, ``effort``);
* lips pressed together at a bilabial closure push their tissue forward: at contact ``lip_protrude`` is
  at least ``closure_protrusion``, whatever the neighbouring vowels (lip compression after oral closure,
  Löfqvist & Gracco 1997; in articulography the lip sensors move forward at /p b m/ even between spread
  vowels), and the PP viseme shape has the same protrusion, so viseme weights keep it;
* the jaw's gestures lead the labels by the same ``jaw_lead`` (opening and closing alike);
* bilabial closure leads the labelled acoustic segment: the lips meet ``closure_lead`` before it starts
  and begin to part at ``closure_release`` of it, the release and the burst/aspiration or nasal
  transition being part of the labelled interval (Löfqvist 1990: lip-closing movements run ahead of the
  acoustic closure; aligners place boundaries at acoustic events). Contact is held at least
  ``min_hold``.

Viseme weights per frame come from the same machinery with one "visual" dominance per segment over
the segment's class in the chosen viseme set (rest segments give the set's silence class); they sum
to 1 in every frame. They then keep the articulation's truth (:mod:`visemes.mouth.viseme_weights`):
Oculus/MPEG-4 weights are refitted so that the mix of the viseme shapes shows the curves, and at lip
contact the set's bilabial class takes at least 0.95 of the frame. Everything is deterministic. This is the non-neural fallback and the teacher
of the neural model, so all tunable constants live in :class:`CoarticulationParams`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any

import numpy as np

from visemes.mouth.arkit import ARKIT_MOUTH, articulation_to_arkit
from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET
from visemes.core.curves import FrameCurves, MouthAnimation, check_fps, frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import Tier
from visemes.core.vocabulary import SILENCE, check_set, classes
from visemes.lang_packs.features import feature
from visemes.mouth.arkit import CONTACT
from visemes.mouth.audio_effort import EffortParams, effort_gain, silence_mask
from visemes.mouth.viseme_weights import CLOSURE_PROTRUSION, closure_share, fit_weights, keep_closure
from visemes.mouth.visemesets import from_oculus, phone_to_viseme

#: a phone whose target has at least this lip_close is a bilabial closure (Spanish β at 0.6 is not)
CLOSING_TARGET = 0.9
#: Phone classes of the model (from the phone's Oculus viseme).
KINDS: tuple[str, ...] = ("vowel", "bilabial", "labiodental", "sibilant", "dental", "coronal_stop", "consonant", "rest")
#: Parameter groups sharing dominance settings.
GROUPS: dict[str, tuple[str, ...]] = {
    "jaw": ("jaw_open",),
    "shape": ("lip_spread", "lip_round", "lip_protrude"),
    "close": ("lip_close",),
    "tuck": ("lower_lip_tuck",),
    "upper": ("upper_lip_raise",),
    "tongue": ("tongue_tip", "tongue_out"),
}
_KIND_OF_VISEME = {
    "PP": "bilabial", "FF": "labiodental", "SS": "sibilant", "CH": "sibilant", "TH": "dental",
    "DD": "coronal_stop", "kk": "consonant", "nn": "consonant", "RR": "consonant",
    "aa": "vowel", "E": "vowel", "ih": "vowel", "oh": "vowel", "ou": "vowel", "sil": "rest",
}


def _table(rows: Mapping[str, Mapping[str, Any]]) -> Mapping[str, Mapping[str, Any]]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in rows.items()})


def _default_magnitude() -> dict[str, dict[str, float]]:
    return {
        "vowel": {"jaw": 1.0, "shape": 1.0, "close": 1.5, "tuck": 1.5, "upper": 0.6, "tongue": 0.3},
        # jaw nearly unspecified: the lips close, the jaw stays near its neighbours (JALI)
        "bilabial": {"jaw": 0.15, "shape": 0.15, "close": 60.0, "tuck": 5.0, "upper": 0.3, "tongue": 0.15},
        "labiodental": {"jaw": 0.7, "shape": 0.2, "close": 5.0, "tuck": 60.0, "upper": 1.0, "tongue": 0.15},
        "sibilant": {"jaw": 2.0, "shape": 0.6, "close": 1.5, "tuck": 1.0, "upper": 1.0, "tongue": 0.5},
        "dental": {"jaw": 1.0, "shape": 0.3, "close": 1.5, "tuck": 1.0, "upper": 0.3, "tongue": 8.0},
        # /t d/: a consonant whose jaw is as high and as fixed as a sibilant's (Keating et al. 1994)
        "coronal_stop": {"jaw": 2.0, "shape": 1.2, "close": 1.0, "tuck": 1.0, "upper": 0.6, "tongue": 2.0},
        "consonant": {"jaw": 0.5, "shape": 1.2, "close": 1.0, "tuck": 1.0, "upper": 0.6, "tongue": 2.0},
        "rest": {"jaw": 1.0, "shape": 1.0, "close": 1.0, "tuck": 1.0, "upper": 1.0, "tongue": 1.0},
    }


def _default_rates() -> dict[str, dict[str, tuple[float, float]]]:
    # (anticipatory, carry-over) decay rates in 1/s; groups not listed use ``default_rate``
    return {
        "vowel": {"shape": (7.0, 14.0), "jaw": (20.0, 20.0)},
        # closure and tuck: overwhelming inside the phone, gone within ~40 ms so the lips open for
        # the vowel of "Bob" (lip_close < 0.05 mid-vowel); the closing side is steeper still: the lips
        # meet in a fast, nearly ballistic movement, so a closure that leads its label (closure_lead)
        # does not half-close a short vowel before it ("mom": 118 ms ɑː, lip_close 0.55 -> 0.11)
        "bilabial": {"close": (200.0, 120.0)},
        "labiodental": {"tuck": (120.0, 120.0)},
        "rest": {g: (20.0, 20.0) for g in GROUPS},
    }


def _default_visual() -> dict[str, float]:
    return {"vowel": 1.0, "bilabial": 2.0, "labiodental": 2.0, "sibilant": 1.0, "dental": 1.5,
            "coronal_stop": 0.7, "consonant": 0.7, "rest": 1.0}


@dataclass(frozen=True)
class CoarticulationParams:
    """Every tunable constant of the model (times in seconds, rates in 1/s)."""

    #: alpha per phone class and parameter group (for consonant-like classes: when the phone specifies it)
    magnitude: Mapping[str, Mapping[str, float]] = field(default_factory=_default_magnitude)
    #: multiplier on ``magnitude`` for shape/upper/tongue groups a non-vowel target leaves neutral
    unspecified_factor: float = 0.1
    #: a group is "specified" by a phone when its target reaches this in any of the group's parameters
    #: (0.4: a sibilant's slight spread, 0.35, is incidental and lets neighbouring rounding through)
    specified_threshold: float = 0.4
    #: (anticipatory, carry-over) rates per class and group; anything else uses ``default_rate``
    rates: Mapping[str, Mapping[str, tuple[float, float]]] = field(default_factory=_default_rates)
    default_rate: float = 25.0
    #: exponent c of the distance in the dominance function (1 = negative exponential)
    distance_power: float = 1.0
    #: central part of each phone at full dominance
    core_fraction: float = 0.5
    #: distance beyond which a segment no longer contributes (smoothly tapered to 0)
    window: float = 0.6
    #: a segment reaches reach_nats / (its slowest decay rate) seconds beyond its core (capped by window)
    reach_nats: float = 7.0
    #: a pause this long (or longer) has the full rest magnitude; shorter ones proportionally less
    rest_full_pause: float = 0.25
    #: pauses shorter than this are ignored (neighbouring phones touch)
    min_pause: float = 0.01
    #: lip_close guaranteed at the frame nearest every bilabial's centre
    closure_min: float = CONTACT
    #: visual dominance magnitude per class for the viseme weights
    visual_magnitude: Mapping[str, float] = field(default_factory=_default_visual)
    visual_rate: float = 40.0
    #: Oculus/MPEG-4 weights refitted so that the mix of the viseme shapes reproduces the articulation
    #: (``visemes.mouth.viseme_weights.fit_weights``), with this pull towards the dominance weights
    fit_visemes: bool = True
    viseme_ridge: float = 0.02
    #: with audio: loudness scales the jaw's opening, long silence brings the mouth to rest
    #: (``visemes.mouth.audio_effort``); None ignores the audio
    effort: EffortParams | None = field(default_factory=EffortParams)
    #: a consonant with a secondary articulation (ˤ pharyngealized, ʷ labialized) always specifies its
    #: lip shape, and that shape spreads over its neighbours at this rate (1/s, both sides): Arabic
    #: emphasis spreads across the syllable and beyond (Card 1983; Davis 1995)
    secondary_shape_rate: float = 8.0
    #: lip rounding is anticipated across consonants but not through a phone with the opposite lip
    #: posture (Henke's 1966 look-ahead model with blocking; Perkell & Chiang 1986): a phone's lip-shape
    #: dominance falls at block_rate (1/s) beyond the core of the nearest phone whose posture
    #: (round + protrude) / 2 - spread is at least posture_threshold the other way (0 turns it off)
    block_rate: float = 40.0
    posture_threshold: float = 0.2
    # --- main controls -------------------------------------------------------------------------
    #: scale of every phone's jaw_open displacement from ``jaw_neutral`` (1 = the pack's targets)
    jaw_intensity: float = 1.0
    #: scale of every phone's lip shape targets (lip_spread, lip_round, lip_protrude)
    lip_intensity: float = 1.0
    #: bilabial lip contact lasts at least this long (seconds)
    min_hold: float = 0.03
    #: a vowel's lip-shape (rounding/spreading) dominance has fallen to 10 % this long before its core;
    #: sets the anticipatory ``rates["vowel"]["shape"]`` (ln 10 / span); None keeps the table's rate
    anticipation_span: float | None = 0.3
    # --- vowel reduction -----------------------------------------------------------------------
    #: the mid, schwa-like jaw height that undershoot and reduction move vowels toward
    jaw_neutral: float = 0.3
    #: Lindblom's undershoot: a vowel reaches 1 - exp(-duration / undershoot_time) of its jaw and lip
    #: displacement (0 disables)
    undershoot_time: float = 0.05
    #: for utterances whose phones carry stress: unstressed vowels keep this share of their jaw
    #: displacement from neutral, of their lip shape, and of their dominance (secondary: half-way)
    unstressed_jaw: float = 0.6
    unstressed_lips: float = 0.7
    unstressed_magnitude: float = 0.7
    # --- bilabial timing -----------------------------------------------------------------------
    #: lips meet this long before a bilabial's labelled start ...
    closure_lead: float = 0.02
    #: ... and start to part at this fraction of its labelled interval
    closure_release: float = 0.55
    #: every phone's lip rounding/spreading/protrusion core starts this long before its labelled core
    #: (the lips are slow and their gestures start well before the acoustic segment: Perkell &
    #: Matthies 1992); the release is not moved
    lip_lead: float = 0.04
    #: at lip contact the lips are pressed together and their tissue is pushed forward: lip_protrude is
    #: at least this (times the contact share, ``viseme_weights.closure_share``); the PP viseme shape
    #: has the same protrusion, so viseme weights keep it (0 turns it off)
    closure_protrusion: float = CLOSURE_PROTRUSION
    #: the jaw's gestures run this long ahead of the labelled phones, opening and closing alike: aligners
    #: place boundaries at acoustic events, which the articulators' movements precede (the lips' closing
    #: by ``closure_lead``, Löfqvist 1990; the same lead here, not a fitted value). 0 keeps the jaw on
    #: the labels
    jaw_lead: float = 0.02
    #: a bilabial right after another oral closure (a stop, nasal or affricate: "crate but", "don't
    #: break") closes under it: the lips meet by that consonant's middle, the gestures overlapping as in
    #: stop sequences (Browman & Goldstein 1990, the /t/ of "perfect memory" hidden under the /m/;
    #: Hardcastle & Roach 1979). A silent gap shorter than ``closure_gap`` between the two is that
    #: closure's silence, not a pause (as ``audio_effort`` rests the mouth only after 0.2 s of silence).
    #: False keeps every closure on its own label
    cluster_overlap: bool = True
    closure_gap: float = 0.2

    def __post_init__(self) -> None:
        for name in ("magnitude", "rates"):
            table = getattr(self, name)
            if set(table) - set(KINDS):
                raise InputError(f"CoarticulationParams.{name} has unknown classes {sorted(set(table) - set(KINDS))}.")
            for groups in table.values():
                if set(groups) - set(GROUPS):
                    raise InputError(f"CoarticulationParams.{name} has unknown groups {sorted(set(groups) - set(GROUPS))}.")
            object.__setattr__(self, name, _table(table))
        if set(self.magnitude) != set(KINDS) or any(set(v) != set(GROUPS) for v in self.magnitude.values()):
            raise InputError("CoarticulationParams.magnitude needs every class and every group.")
        if set(self.visual_magnitude) != set(KINDS):
            raise InputError("CoarticulationParams.visual_magnitude needs every class.")
        object.__setattr__(self, "visual_magnitude", MappingProxyType(dict(self.visual_magnitude)))
        positive = ("secondary_shape_rate", "default_rate", "distance_power", "window", "reach_nats", "rest_full_pause", "visual_rate")
        for name in positive:
            if not float(getattr(self, name)) > 0:
                raise InputError(f"CoarticulationParams.{name} must be positive, got {getattr(self, name)}.")
        if not 0.0 <= self.core_fraction < 1.0 or not 0.0 < self.closure_min <= 1.0:
            raise InputError("CoarticulationParams: core_fraction must be in [0, 1) and closure_min in (0, 1].")
        non_negative = ("closure_gap", "jaw_lead", "closure_protrusion", "block_rate", "posture_threshold", "viseme_ridge", "lip_lead", "jaw_intensity", "lip_intensity", "min_hold", "undershoot_time", "closure_lead",
                        "unstressed_jaw", "unstressed_lips", "unstressed_magnitude")
        for name in non_negative:
            if not float(getattr(self, name)) >= 0:
                raise InputError(f"CoarticulationParams.{name} must be >= 0, got {getattr(self, name)}.")
        if not 0.0 <= self.jaw_neutral <= 1.0 or not 0.0 < self.closure_release <= 1.0:
            raise InputError("CoarticulationParams: jaw_neutral must be in [0, 1] and closure_release in (0, 1].")
        if self.anticipation_span is not None and not float(self.anticipation_span) > 0:
            raise InputError(f"CoarticulationParams.anticipation_span must be positive or None, got {self.anticipation_span}.")

    def alpha_matrix(self) -> np.ndarray:
        """alpha[kind, group] (the specified case), in KINDS x GROUPS order."""
        return np.array([[self.magnitude[kind][group] for group in GROUPS] for kind in KINDS])

    def rate_matrix(self) -> np.ndarray:
        """theta[kind, group, side] with side 0 = anticipatory (before the core), 1 = carry-over."""
        out = np.full((len(KINDS), len(GROUPS), 2), float(self.default_rate))
        for kind, groups in self.rates.items():
            for group, (before, after) in groups.items():
                out[KINDS.index(kind), _G[group]] = (before, after)
        if self.anticipation_span is not None:
            out[KINDS.index("vowel"), _G["shape"], 0] = np.log(10.0) / float(self.anticipation_span)
        return out


def params_for(pack: Any, **overrides: Any) -> CoarticulationParams:
    """The parameters for ``pack``'s language, with ``overrides`` on top.

    A pack's ``[mouth]`` table (``pack.mouth``; keys and ranges in
    :data:`visemes.lang_packs.schema.MOUTH_SETTINGS`, validated when the pack loads and inherited from
    its parent) says where its speakers differ from the defaults. Languages with a phonemic rounding
    contrast (front rounded vowels: French, German, Dutch, Turkish) set a longer ``anticipation_span``:
    their speakers start rounding earlier and further across consonants than English speakers
    (Benguerel & Cowan 1974 for French; Lubker & Gay 1982, Swedish against American English)."""
    settings = dict(getattr(pack, "mouth", None) or {})
    settings.update(overrides)
    unknown = set(settings) - {f.name for f in fields(CoarticulationParams)}
    if unknown:
        raise InputError(f"Unknown coarticulation parameters {sorted(unknown)}; see visemes.mouth.coarticulation.CoarticulationParams.")
    return CoarticulationParams(**settings)


_P = {name: i for i, name in enumerate(ARTICULATION_PARAMS)}
_G = {name: i for i, name in enumerate(GROUPS)}
#: the group of each parameter, in ARTICULATION_PARAMS order (dominance is computed per group)
_GROUP_OF_PARAM = np.array([next(_G[g] for g, ps in GROUPS.items() if p in ps) for p in ARTICULATION_PARAMS])
_REST = np.array([REST_TARGET[p] for p in ARTICULATION_PARAMS])
_REST_KIND = KINDS.index("rest")
#: sets whose classes are the Oculus 15 in OCULUS_15 order (the viseme shapes' order)
_OCULUS_ORDER = ("oculus", "mpeg4")
_NEUTRAL_SENSITIVE = ("shape", "upper", "tongue")
_JAW = _P["jaw_open"]
_LIPS = np.array([_P["lip_spread"], _P["lip_round"], _P["lip_protrude"]])
#: pharyngealization (Arabic emphatics sˤ tˤ dˤ ðˤ) and labialization (kʷ): lip-shape secondary articulations
_SECONDARY_MARKS = frozenset("ˤʷ")


@functools.lru_cache(maxsize=4096)
def oral_closure(symbol: str) -> bool:
    """Whether ``symbol`` closes the vocal tract orally: a stop, nasal or affricate ([+consonantal,
    -continuant] in panphon's features)."""
    return feature(symbol, "cons") > 0 and feature(symbol, "cont") < 0


def _secondary(symbol: str) -> bool:
    return any(c in _SECONDARY_MARKS for c in symbol)


_PRIMARY = {"primary", "1", "ˈ", "True", "true"}
_SECONDARY = {"secondary", "2", "ˌ"}


def _stress_level(phones: Tier) -> list[float | None]:
    """Per phone: 1 (primary), 0.5 (secondary), 0 (unmarked) when any phone carries stress, else None."""
    marks = [iv.attrs.get("stress") for iv in phones]
    if not any(m not in (None, "", 0, False) for m in marks):
        return [None] * len(marks)
    return [1.0 if str(m) in _PRIMARY else 0.5 if str(m) in _SECONDARY else 0.0 for m in marks]


def _shaped_target(target: np.ndarray, vowel: bool, duration: float, stress: float | None,
                   prm: CoarticulationParams) -> tuple[np.ndarray, float]:
    """The target after the intensity controls, vowel undershoot and stress reduction, and the factor
    on the phone's dominance (reduced vowels yield to their neighbours)."""
    jaw_share, lip_share, magnitude = float(prm.jaw_intensity), float(prm.lip_intensity), 1.0
    if vowel:
        if prm.undershoot_time > 0:
            reach = 1.0 - float(np.exp(-duration / prm.undershoot_time))
            jaw_share *= reach
            lip_share *= reach
        if stress is not None:
            strong = float(stress)
            jaw_share *= prm.unstressed_jaw + (1.0 - prm.unstressed_jaw) * strong
            lip_share *= prm.unstressed_lips + (1.0 - prm.unstressed_lips) * strong
            magnitude = prm.unstressed_magnitude + (1.0 - prm.unstressed_magnitude) * strong
    if jaw_share == 1.0 and lip_share == 1.0:
        return target, magnitude
    out = target.copy()
    out[_JAW] = prm.jaw_neutral + (target[_JAW] - prm.jaw_neutral) * jaw_share
    out[_LIPS] = target[_LIPS] * lip_share
    return np.clip(out, 0.0, 1.0), magnitude


@dataclass(frozen=True)
class _Segments:
    start: np.ndarray  # [S]
    end: np.ndarray  # [S]
    kind: np.ndarray  # [S] index into KINDS
    target: np.ndarray  # [S, P]
    alpha: np.ndarray  # [S, G]
    scale: np.ndarray  # [S] pause-length scaling of rest segments (1 for phones)
    reach: np.ndarray  # [S] seconds beyond the core where the segment's dominance tapers to 0
    label: tuple[str, ...]  # viseme class in the chosen set
    bilabial: np.ndarray  # [S] bool
    core_lo: np.ndarray  # [S] start of the segment's core (full dominance)
    core_hi: np.ndarray  # [S] end of the core
    secondary: np.ndarray  # [S] bool: lip shape spreads at secondary_shape_rate (emphatics, labialized)
    block_lo: np.ndarray  # [S] lip-shape dominance blocked before this time (an opposite posture's core end)
    block_hi: np.ndarray  # [S] ... and after this time


def _segments(phones: Tier, pack: Any, duration: float, set_name: str, prm: CoarticulationParams) -> _Segments:
    alpha_kind = prm.alpha_matrix()
    silence = SILENCE[set_name]
    # per distinct symbol: (kind, target, alpha, label, bilabial); the per-phone loop only appends
    per_symbol: dict[str, tuple[int, np.ndarray, np.ndarray, str, bool]] = {}
    rest_info = (_REST_KIND, _REST, alpha_kind[_REST_KIND], silence, False)
    items: list[tuple[float, float, float, tuple[int, np.ndarray, np.ndarray, str, bool]]] = []
    vowel_kind = KINDS.index("vowel")

    def symbol_info(symbol: str) -> tuple[int, np.ndarray, np.ndarray, str, bool]:
        spec = pack.phone(symbol)
        target = np.array([float(spec.target.get(p, REST_TARGET[p])) for p in ARTICULATION_PARAMS])
        target = np.clip(target, 0.0, 1.0)
        kind = KINDS.index(_KIND_OF_VISEME.get(spec.viseme, "consonant"))
        alpha = alpha_kind[kind].copy()
        if KINDS[kind] not in ("vowel", "rest"):
            for group in _NEUTRAL_SENSITIVE:
                if group == "shape" and _secondary(symbol):
                    continue  # a pharyngealized/labialized consonant's lip shape is a target, however small
                if max(target[_P[p]] for p in GROUPS[group]) < prm.specified_threshold:
                    alpha[_G[group]] *= prm.unspecified_factor
        if KINDS[kind] == "rest":
            target = _REST
        # the pack's lip_close target decides, not the PP class: Spanish β and Japanese ɸ are PP with
        # lips deliberately short of contact (0.6), and forcing contact on them contradicts the pack
        bilabial = target[_P["lip_close"]] >= CLOSING_TARGET
        return kind, target, alpha, phone_to_viseme(symbol, spec, set_name), bool(bilabial)

    cursor = 0.0
    secondary: list[bool] = []  # per item: a secondary articulation (emphatic, labialized) spreads
    closing: list[bool] = []  # per item: a non-bilabial stop/nasal/affricate (a following bilabial overlaps it)
    for iv, stress in zip(phones, _stress_level(phones)):
        if iv.end > duration + 1e-6:
            raise InputError(f"Phone {iv.label!r} ends at {iv.end:.3f} s, after the duration {duration:.3f} s.")
        if iv.start - cursor >= prm.min_pause:
            items.append((cursor, iv.start, min(1.0, (iv.start - cursor) / prm.rest_full_pause), rest_info))
            secondary.append(False)
            closing.append(False)
        info = per_symbol.get(iv.label)
        if info is None:
            info = per_symbol[iv.label] = symbol_info(iv.label)
        target, magnitude = _shaped_target(info[1], info[0] == vowel_kind, iv.end - iv.start, stress, prm)
        if target is not info[1] or magnitude != 1.0:
            info = (info[0], target, info[2] * magnitude, info[3], info[4])
        items.append((iv.start, iv.end, 1.0, info))
        secondary.append(info[0] != vowel_kind and _secondary(iv.label))
        closing.append(not info[4] and oral_closure(iv.label))
        cursor = max(cursor, iv.end)
    if duration - cursor >= prm.min_pause or not items:
        items.append((cursor, duration, min(1.0, (duration - cursor) / prm.rest_full_pause), rest_info))
        secondary.append(False)
        closing.append(False)
    scale = np.array([it[2] for it in items])
    kinds = np.array([it[3][0] for it in items], dtype=np.int64)
    spreads = np.array(secondary, dtype=bool)
    slowest = np.minimum(prm.rate_matrix().min(axis=(1, 2)), prm.visual_rate)[kinds]  # per segment
    slowest = np.where(spreads, np.minimum(slowest, prm.secondary_shape_rate), slowest)
    reach = np.minimum(prm.window, prm.reach_nats / slowest)
    start = np.array([it[0] for it in items], dtype=np.float64)
    end = np.array([it[1] for it in items], dtype=np.float64)
    bilabial = np.array([it[3][4] for it in items], dtype=bool)
    # cores: the central core_fraction of a phone, a whole pause, and for a bilabial closure the span
    # from closure_lead before its start to closure_release of it (at least min_hold long)
    centre, half = 0.5 * (start + end), 0.5 * prm.core_fraction * (end - start)
    rest = kinds == _REST_KIND
    core_lo = np.where(rest, start, centre - half)
    core_hi = np.where(rest, end, centre + half)
    lo = start - prm.closure_lead
    if prm.cluster_overlap:  # the lips close under a preceding stop's closure, from its middle on
        stop = np.array(closing, dtype=bool)
        # the stop right before, or before a silent gap shorter than a pause (its closure's silence)
        gap = rest & (end - start < prm.closure_gap)
        prev1 = np.concatenate([[False], stop[:-1]])
        prev2 = np.concatenate([[False, False], stop[:-2] & gap[1:-1]])[: len(stop)]
        c1 = np.concatenate([[np.inf], centre[:-1]])
        c2 = np.concatenate([[np.inf, np.inf], centre[:-2]])[: len(stop)]
        lo = np.where(prev1, np.minimum(lo, c1), np.where(prev2, np.minimum(lo, c2), lo))
    hi = start + prm.closure_release * (end - start)
    grow = np.maximum(0.0, prm.min_hold - (hi - lo)) / 2
    core_lo = np.where(bilabial, lo - grow, core_lo)
    core_hi = np.where(bilabial, hi + grow, core_hi)
    targets = np.stack([it[3][1] for it in items])
    block_lo, block_hi = _blocking(targets, kinds, spreads, core_lo, core_hi, prm)
    return _Segments(
        start,
        end,
        kinds,
        targets,
        np.stack([it[3][2] for it in items]) * scale[:, None],
        scale,
        reach,
        tuple(it[3][3] for it in items),
        bilabial,
        core_lo,
        core_hi,
        spreads,
        block_lo,
        block_hi,
    )


def _blocking(targets: np.ndarray, kinds: np.ndarray, secondary: np.ndarray, core_lo: np.ndarray,
              core_hi: np.ndarray, prm: CoarticulationParams) -> tuple[np.ndarray, np.ndarray]:
    """Per segment, the times before/after which its lip-shape dominance is blocked: the core end of the
    nearest earlier segment whose specified lip posture is the opposite one (rounded vs spread), and the
    core start of the nearest later one (-inf/+inf where there is none)."""
    shape = targets[:, _LIPS]  # spread, round, protrude
    posture = 0.5 * (shape[:, 1] + shape[:, 2]) - shape[:, 0]
    specified = (kinds == KINDS.index("vowel")) | secondary | (shape.max(axis=1) >= prm.specified_threshold)
    sign = np.where(specified & (np.abs(posture) >= prm.posture_threshold), np.sign(posture), 0.0).astype(np.int64)
    n = len(sign)
    idx = np.arange(n)
    block_lo = np.full(n, -np.inf)
    block_hi = np.full(n, np.inf)
    for s in (-1, 1):
        mine = sign == s
        # last opposite segment strictly before, first strictly after
        opp = sign == -s
        last = np.maximum.accumulate(np.where(opp, idx, -1))
        prev = np.concatenate([[-1], last[:-1]])
        first = np.minimum.accumulate(np.where(opp, idx, n)[::-1])[::-1]
        nxt = np.concatenate([first[1:], [n]])
        has_prev, has_next = mine & (prev >= 0), mine & (nxt < n)
        block_lo[has_prev] = core_hi[prev[has_prev]]
        block_hi[has_next] = core_lo[nxt[has_next]]
    return block_lo, block_hi


def _pairs(seg: _Segments, n_frames: int, fps: float, lead: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(frame, segment) index pairs for every frame within each segment's reach of it (``lead``
    seconds earlier too)."""
    first, last = np.minimum(seg.start, seg.core_lo) - max(0.0, lead), np.maximum(seg.end, seg.core_hi)
    lo = np.clip(np.ceil((first - seg.reach) * fps - 1e-9), 0, n_frames - 1).astype(np.int64)
    hi = np.clip(np.floor((last + seg.reach) * fps + 1e-9), 0, n_frames - 1).astype(np.int64)
    counts = hi - lo + 1
    seg_idx = np.repeat(np.arange(len(lo)), counts)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    frame_idx = lo[seg_idx] + (np.arange(int(counts.sum())) - offsets[seg_idx])
    return frame_idx, seg_idx


def _distance(seg: _Segments, t: np.ndarray, seg_idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance from each pair's frame time to its segment's core, and whether it lies before it."""
    lo, hi = seg.core_lo[seg_idx], seg.core_hi[seg_idx]
    centre, half = 0.5 * (lo + hi), 0.5 * (hi - lo)
    offset = t - centre
    return np.maximum(0.0, np.abs(offset) - half), offset < 0


def _taper(d: np.ndarray, reach: np.ndarray) -> np.ndarray:
    x = np.clip(d / reach, 0.0, 1.0)
    return (1.0 - x * x) ** 2


def articulation_values(
    phones: Tier, pack: Any, fps: float, duration: float, params: CoarticulationParams | None = None
) -> np.ndarray:
    """Per-frame articulation ``[frames, 9]`` (ARTICULATION_PARAMS order) for timed ``phones``."""
    return _animate(phones, pack, fps, duration, "oculus", params or params_for(pack))[0]


def _animate(phones: Tier, pack: Any, fps: float, duration: float, set_name: str, prm: CoarticulationParams,
             audio: np.ndarray | None = None, sample_rate: int | None = None):
    fps = check_fps(fps)
    duration = float(duration)
    if not (np.isfinite(duration) and duration > 0):
        raise InputError(f"The animation duration must be a positive number of seconds, got {duration}.")
    check_set(set_name)
    seg = _segments(phones, pack, duration, set_name, prm)
    n = frame_count(duration, fps)
    times = np.arange(n) / fps
    frame_idx, seg_idx = _pairs(seg, n, fps, max(prm.lip_lead, prm.jaw_lead))
    d, before = _distance(seg, times[frame_idx], seg_idx)
    taper = _taper(d, seg.reach[seg_idx])
    dist = d ** prm.distance_power

    # articulation: dominance-weighted mean of targets, per parameter; a phone's lip-shape core starts
    # lip_lead earlier (the lips anticipate; they do not let go earlier)
    rates = prm.rate_matrix().astype(np.float32)[seg.kind[seg_idx]]  # [pairs, G, side]
    rates[seg.secondary[seg_idx], _G["shape"], :] = prm.secondary_shape_rate
    dist_g = np.repeat(dist.astype(np.float32)[:, None], len(GROUPS), axis=1)  # [pairs, G]
    before_g = np.repeat(before[:, None], len(GROUPS), axis=1)
    taper_g = np.repeat(taper.astype(np.float32)[:, None], len(GROUPS), axis=1)
    if prm.lip_lead:
        d_lip = np.minimum(d, _distance(seg, times[frame_idx] + prm.lip_lead, seg_idx)[0])
        d_lip = np.where(seg.kind[seg_idx] == _REST_KIND, d, d_lip)  # a pause does not come early
        shape = _G["shape"]
        dist_g[:, shape] = d_lip ** prm.distance_power
        taper_g[:, shape] = _taper(d_lip, seg.reach[seg_idx])
    if prm.jaw_lead:
        d_jaw, before_jaw = _distance(seg, times[frame_idx] + prm.jaw_lead, seg_idx)
        jaw = _G["jaw"]
        dist_g[:, jaw] = d_jaw ** prm.distance_power
        before_g[:, jaw] = before_jaw
        taper_g[:, jaw] = _taper(d_jaw, seg.reach[seg_idx])
    theta = np.where(before_g, rates[:, :, 0], rates[:, :, 1])  # [pairs, G]
    dom = seg.alpha.astype(np.float32)[seg_idx] * np.exp(-theta * dist_g) * taper_g
    if prm.block_rate:
        # a rounded phone's lip shape does not reach through a spread one (and vice versa): beyond the
        # opposite posture's core its dominance falls at block_rate (look-ahead with blocking)
        t = times[frame_idx]
        over = np.maximum(0.0, seg.block_lo[seg_idx] - t) + np.maximum(0.0, t - seg.block_hi[seg_idx])
        dom[:, _G["shape"]] *= np.exp(-prm.block_rate * over).astype(np.float32)
    dom = dom[:, _GROUP_OF_PARAM]  # [pairs, P]
    n_params = len(ARTICULATION_PARAMS)
    num = np.zeros((n, n_params))
    den = np.zeros((n, n_params))
    weighted = dom * seg.target[seg_idx]
    for p in range(n_params):
        num[:, p] = np.bincount(frame_idx, weights=weighted[:, p], minlength=n)
        den[:, p] = np.bincount(frame_idx, weights=dom[:, p], minlength=n)
    tiny = 1e-9  # a whisper of rest everywhere: frames no segment reaches (none in practice) rest
    values = (num + tiny * _REST) / (den + tiny)
    quiet = None
    if audio is not None and prm.effort is not None:
        values, quiet = _with_effort(values, audio, sample_rate, fps, prm.effort)
    values = _guarantee_closure(values, seg, fps, prm)
    if prm.closure_protrusion:
        protrude = values[:, _P["lip_protrude"]]
        values[:, _P["lip_protrude"]] = np.maximum(protrude, prm.closure_protrusion * closure_share(values[:, _P["lip_close"]]))

    # viseme weights: one visual dominance per segment over its class in the chosen set
    names = classes(set_name)
    class_of_seg = np.array([names.index(label) for label in seg.label], dtype=np.int64)
    visual = np.array([prm.visual_magnitude[k] for k in KINDS])[seg.kind[seg_idx]]
    vdom = visual * seg.scale[seg_idx] * np.exp(-prm.visual_rate * dist) * taper
    flat = frame_idx * len(names) + class_of_seg[seg_idx]
    weights = np.bincount(flat, weights=vdom, minlength=n * len(names)).reshape(n, len(names))
    weights[:, names.index(SILENCE[set_name])] += tiny
    weights /= weights.sum(axis=1, keepdims=True)
    if quiet is not None:  # a long silence is the set's silence class
        weights *= (1.0 - quiet)[:, None]
        weights[:, names.index(SILENCE[set_name])] += quiet
    values = np.clip(values, 0.0, 1.0)
    # the weights keep the articulation's truth: an engine mixing the viseme shapes shows these curves,
    # and a closure is the bilabial class's frame (visemes.mouth.viseme_weights)
    if prm.fit_visemes and set_name in _OCULUS_ORDER:
        weights = fit_weights(values, weights, ridge=prm.viseme_ridge)
    weights = keep_closure(weights, values[:, _P["lip_close"]], names, from_oculus("PP", set_name))
    return values.astype(np.float32), weights.astype(np.float32)


def _with_effort(values: np.ndarray, audio: np.ndarray, sample_rate: int | None, fps: float,
                 eff: EffortParams) -> tuple[np.ndarray, np.ndarray]:
    """Loudness scales jaw_open's displacement from rest; long silence blends every parameter to rest."""
    if sample_rate is None:
        raise InputError("Audio for the coarticulation model needs its sample_rate.")
    n = values.shape[0]
    gain = effort_gain(audio, int(sample_rate), fps, n, eff)
    quiet = silence_mask(audio, int(sample_rate), fps, n, eff)
    values = values.copy()
    rest_jaw = _REST[_JAW]
    values[:, _JAW] = rest_jaw + (values[:, _JAW] - rest_jaw) * gain
    values = values * (1.0 - quiet)[:, None] + _REST[None, :] * quiet[:, None]
    return values, quiet


def _guarantee_closure(values: np.ndarray, seg: _Segments, fps: float, prm: CoarticulationParams) -> np.ndarray:
    """Raise lip_close smoothly around every bilabial so that the frames nearest its closure's centre and
    nearest its labelled centre both reach contact."""
    idx = np.flatnonzero(seg.bilabial)
    if idx.size == 0:
        return values
    n = values.shape[0]
    col = values[:, _P["lip_close"]].copy()
    # bump: a C1 window centred on the chosen frame, at least 1.5 frames and half the closure wide
    widths = np.maximum(1.5 / fps, 0.5 * (seg.core_hi[idx] - seg.core_lo[idx]) + 1.0 / fps)
    for centres in (0.5 * (seg.core_lo[idx] + seg.core_hi[idx]), 0.5 * (seg.start[idx] + seg.end[idx])):
        frames = np.clip(np.rint(centres * fps).astype(np.int64), 0, n - 1)
        deficit = np.maximum(0.0, prm.closure_min - col[frames])
        todo = deficit > 0
        for f, w, amount in zip(frames[todo], widths[todo], deficit[todo]):
            reach = int(np.ceil(w * fps))
            lo, hi = max(0, f - reach), min(n, f + reach + 1)
            x = (np.arange(lo, hi) - f) / (w * fps)
            col[lo:hi] += amount * np.clip(1.0 - x * x, 0.0, 1.0) ** 2
    values = values.copy()
    values[:, _P["lip_close"]] = np.minimum(col, 1.0)
    return values


def animate_phones(
    phones: Tier,
    pack: Any,
    fps: float,
    duration: float,
    *,
    viseme_set: str = "oculus",
    params: CoarticulationParams | None = None,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
) -> MouthAnimation:
    """Mouth animation for timed ``phones`` (labels are ``pack`` symbols) over ``duration`` seconds.

    ``pack`` is anything with ``.phone(symbol) -> PhoneSpec`` (``.viseme``, ``.target``). Frame ``i`` is
    at ``i / fps``. Returns articulation curves (ARTICULATION_PARAMS), ARKit mouth blendshapes
    (ARKIT_MOUTH) and soft viseme weights over ``classes(viseme_set)`` that sum to 1 per frame.
    ``params`` defaults to :func:`params_for` the pack's language. With ``audio`` (mono samples at
    ``sample_rate``, starting at time 0) loudness scales the jaw and long silences rest (``params.effort``).
    """
    prm = params or params_for(pack)
    values, weights = _animate(phones, pack, fps, duration, viseme_set, prm, audio, sample_rate)
    fps = float(fps)
    meta = {"source": "coarticulation", "viseme_set": viseme_set}
    articulation = FrameCurves(fps, ARTICULATION_PARAMS, values, 0.0, meta)
    blendshapes = FrameCurves(fps, ARKIT_MOUTH, articulation_to_arkit(values), 0.0, meta)
    visemes = FrameCurves(fps, classes(viseme_set), weights, 0.0, meta)
    return MouthAnimation(articulation, blendshapes, visemes, source="coarticulation")
