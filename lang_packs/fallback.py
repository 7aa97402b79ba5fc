"""Universal fallback: a viseme (OCULUS_15) and a mouth target for any IPA phone, from its features.

Rules are phonological, not per symbol, so they cover every espeak-ng voice. Packs list their phones
explicitly (and may override targets); this is what unlisted phones and generic packs use.
"""

from __future__ import annotations

import unicodedata
from types import MappingProxyType
from typing import Mapping

from visemes.core.articulation import ARTICULATION_PARAMS

from visemes.lang_packs.features import FEATURE_NAMES, _features

_I = {n: i for i, n in enumerate(FEATURE_NAMES)}


def _f(symbol: str) -> dict[str, float]:
    vec = _features(symbol)
    return {n: vec[i] for n, i in _I.items()}


def _is_labiodental(symbol: str) -> bool:
    return any(ch in "fvʋɱ" for ch in unicodedata.normalize("NFD", symbol))


def viseme_class(symbol: str) -> str:
    """The OCULUS_15 class of an IPA phone (``sil`` for symbols with no known features)."""
    f = _f(symbol)
    if not any(f.values()):
        return "sil"
    if "˞" in symbol or symbol in ("ɚ", "ɝ"):
        return "RR"  # rhotic vowels
    if f["syl"] > 0 and f["cons"] < 0:
        return _vowel_class(f, symbol)
    if f["cons"] < 0 and f["son"] > 0:  # glides j w ɥ ʋ ɰ ɹ ɻ
        if f["cor"] > 0:
            return "RR"
        if _is_labiodental(symbol):
            return "FF"
        if f["lab"] > 0 or f["round"] > 0 or "ᵝ" in symbol:  # ᵝ: lip compression (Japanese ɰᵝ)
            return "ou"
        if f["hi"] > 0 and f["back"] < 0:
            return "ih"
        if f["hi"] <= 0 and "\u032f" in symbol and _f(symbol.replace("\u032f", ""))["syl"] > 0:
            # non-syllabic mid/open vowels (German ɐ̯, diphthong ends e̯): their vowel's shape, not kk
            # (the glottal ʔ, [+son] in panphon, stays kk)
            return _vowel_class(f, symbol)
        return "kk"  # ɰ: a velar glide
    if f["lab"] > 0 and f["cor"] <= 0 and (f["cons"] > 0 or f["hi"] <= 0):
        # consonantal labials keep their lip shape under secondary articulation (pʲ mʲ fʲ: [+hi])
        return "FF" if _is_labiodental(symbol) else "PP"
    if f["cor"] > 0:
        return _coronal_class(symbol, f)
    if f["nas"] > 0 and f["back"] < 0:
        return "nn"  # palatal nasal ɲ: tongue body raised, jaw and lips as for n
    return "kk"  # dorsal, uvular, pharyngeal and glottal consonants


def _vowel_class(f: Mapping[str, float], symbol: str) -> str:
    if "ɐ" in symbol:
        return "aa"  # near-open central; panphon gives it the features of ɘ (front, mid), not an open jaw
    if f["cor"] > 0:
        return "ih"  # apical / syllabic coronal vowels (Mandarin ɻ̩ ɹ̩): spread, close
    if f["round"] > 0 or "ᵝ" in symbol:  # ᵝ: compressed lips (Japanese ɯᵝ ɨᵝ), a labial vowel
        return "ou" if f["hi"] > 0 else "oh"
    if f["hi"] > 0:
        return "ih"
    if f["lo"] > 0 or f["back"] >= 0:
        return "aa"  # open, back-unrounded (ʌ ɤ) and central (ə ɐ ɜ) vowels: jaw-led shapes
    return "E"


def _coronal_class(symbol: str, f: Mapping[str, float]) -> str:
    if f["lat"] > 0:
        return "nn"
    if f["son"] > 0:
        if f["nas"] > 0:
            return "nn"
        return "RR"
    if f["cont"] > 0 and f["strid"] < 0 and f["ant"] > 0 and f["distr"] > 0:
        return "TH"  # θ ð
    if f["strid"] > 0 or (f["delrel"] > 0 and f["cont"] < 0):
        return "SS" if f["ant"] > 0 else "CH"
    if f["cont"] > 0 and f["ant"] < 0:
        return "CH"  # ʂ ʐ ç-like coronal fricatives without [strid]
    return "DD"


# Base mouth shape per viseme class: the parts of a target features do not decide.
_BASE: dict[str, dict[str, float]] = {
    "sil": {"jaw_open": 0.05},
    "PP": {"lip_close": 1.0, "jaw_open": 0.05},
    "FF": {"lower_lip_tuck": 1.0, "upper_lip_raise": 0.3, "jaw_open": 0.1},
    "TH": {"tongue_out": 0.8, "tongue_tip": 0.7, "jaw_open": 0.15},
    "DD": {"tongue_tip": 0.8, "jaw_open": 0.15},
    "nn": {"tongue_tip": 0.7, "jaw_open": 0.15},
    "kk": {"jaw_open": 0.25},
    "CH": {"lip_protrude": 0.6, "lip_round": 0.35, "upper_lip_raise": 0.4, "jaw_open": 0.1},
    "SS": {"lip_spread": 0.35, "jaw_open": 0.08},
    "RR": {"lip_round": 0.3, "lip_protrude": 0.3, "jaw_open": 0.15},
}


def mouth_target(symbol: str) -> Mapping[str, float]:
    """A target over ARTICULATION_PARAMS in [0, 1] for any IPA phone, from its viseme class and features."""
    f = _f(symbol)
    cls = viseme_class(symbol)
    t = {name: 0.0 for name in ARTICULATION_PARAMS}
    if cls in _BASE:
        t.update(_BASE[cls])
    vowel_like = (f["syl"] > 0 and f["cons"] < 0) or cls in ("aa", "E", "ih", "oh", "ou")
    if vowel_like:  # syllabic consonants (m̩ n̩ l̩) keep their consonant shape below
        height = 0.15 if f["hi"] > 0 else 0.75 if f["lo"] > 0 else 0.4
        t["jaw_open"] = height
        if f["round"] > 0:
            t["lip_round"] = 0.8 if f["hi"] > 0 else 0.6
            t["lip_protrude"] = 0.6 if f["hi"] > 0 else 0.4
        elif f["back"] < 0:
            t["lip_spread"] = 0.6 if f["hi"] > 0 else 0.45
            t["upper_lip_raise"] = 0.1
        if f["cor"] > 0 and f["syl"] > 0:  # apical vowels (Mandarin ɻ̩ ɹ̩): close, spread, unrounded
            t.update(jaw_open=0.15, lip_spread=0.45, lip_round=0.0, lip_protrude=0.0)
        if f["syl"] <= 0:  # glides: a closer version of their vowel
            t["jaw_open"] = min(t["jaw_open"], 0.1)
    elif f["round"] > 0 or "ʷ" in symbol:  # labialized consonants
        t["lip_round"] = max(t["lip_round"], 0.5)
        t["lip_protrude"] = max(t["lip_protrude"], 0.4)
    if "ˤ" in symbol or "ˠ" in symbol:  # pharyngealized / velarized: slight rounding, lower jaw
        t["lip_round"] = max(t["lip_round"], 0.2)
        t["jaw_open"] = min(1.0, t["jaw_open"] + 0.05)
    return MappingProxyType({k: round(min(1.0, max(0.0, v)), 3) for k, v in t.items()})
