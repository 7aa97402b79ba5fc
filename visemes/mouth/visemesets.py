"""Viseme inventories and converters.

The Oculus/OpenXR 15 set is the canonical class set of the language packs: every pack phone has an
Oculus class (``PhoneSpec.viseme``) and a mouth target over ARTICULATION_PARAMS (``PhoneSpec.target``).
The other sets are derived from those two (and the phone's symbol):

``oculus``  sil PP FF TH DD kk CH SS nn RR aa E ih oh ou (the pack's class itself).

``mpeg4``   MPEG-4 FAP visemes "0".."14": the same 15 classes in the same order (0 none, 1 p b m,
            2 f v, 3 θ ð, 4 t d, 5 k g, 6 tʃ dʒ ʃ, 7 s z, 8 n l, 9 r, 10 ɑ, 11 e, 12 ɪ, 13 ɒ, 14 ʊ).

``rhubarb`` Rhubarb Lip Sync / Preston Blair shapes A-H and X (rest). A closed lips (PP); G lower lip
            under teeth (FF); H tongue behind upper teeth (lateral approximants, Rhubarb's "long L");
            consonants otherwise B (slightly open, clenched teeth), except strongly rounded glides
            (w ɥ) -> F. Vowels by their mouth target: rhotic vowels (ɝ ɚ, Rhubarb's ER) E;
            lip_round >= 0.7 (or class ``ou``) F puckered; lip_round >= 0.3 E slightly rounded;
            jaw_open >= 0.6 D wide open; jaw_open >= 0.3 C open; else B (close spread vowels, Rhubarb's EE).

``azure``   Azure Speech viseme ids "0".."21". A universal table built from Azure's en-US id table and
            checked against its ar-EG, ur-PK and zh-CN phone tables (all reproduced by
            ``tests/visemes/test_visemesets.py``). Vowels by base symbol (diacritics, length, tone and
            stress stripped): 1 æ ɐ ə ʌ ɘ ɤ ɜ; 2 a ɑ; 3 ɔ ɒ; 4 ɛ e ʊ ø œ ɞ ɶ; 5 ɝ ɚ
            (rhotic); 6 i ɪ ɨ ɯ j; 7 u y ʉ ʏ w ɥ; 8 o ɵ; diphthongs 9 aʊ, 10 ɔɪ, 11 aɪ, other
            diphthongs by their first element. Consonants by Oculus class with symbol refinements:
            PP 21; FF 18; TH ð 17 / θ 19; DD, ʔ and n-like nasals 19 (t d ʈ ɖ ʔ n ɳ); laterals 14; kk 20
            (k g q ŋ ɣ ʁ) except h ɦ ħ ʕ x χ 12; CH 16 (ʃ ʒ tʃ dʒ ɕ ʑ tɕ dʑ); SS 15 (s z ts dz, and the
            retroflex sibilants ʂ ʐ tʂ whose zh-CN entries end in 15); RR 13 (r ɾ ɹ ɻ ɽ ʀ).
            Unknown symbols fall back to their Oculus class.

:func:`viseme_tier` turns a phones tier into a ``visemes`` tier in any set: identical neighbours are
merged and pauses become the set's silence class, so the tier covers the whole timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from visemes.core.errors import InputError
from visemes.core.vocabulary import (
    OCULUS_15,
    SILENCE,
    VOWEL_LETTERS,
    base_letters,
    check_set,
)
from visemes.core.timeline import TIME_EPSILON, VISEMES, Interval, Tier

_VOWEL_CLASSES = frozenset({"aa", "E", "ih", "oh", "ou"})
_LATERALS = frozenset("lɫɭʎʟɬɮ")

# Oculus class -> set label when the symbol adds nothing (also the fallback for unknown symbols).
_FROM_OCULUS: dict[str, dict[str, str]] = {
    "mpeg4": {c: str(i) for i, c in enumerate(OCULUS_15)},
    "rhubarb": {
        "sil": "X", "PP": "A", "FF": "G", "TH": "B", "DD": "B", "kk": "B", "CH": "B", "SS": "B",
        "nn": "B", "RR": "B", "aa": "D", "E": "C", "ih": "B", "oh": "E", "ou": "F",
    },
    "azure": {
        "sil": "0", "PP": "21", "FF": "18", "TH": "19", "DD": "19", "kk": "20", "CH": "16", "SS": "15",
        "nn": "19", "RR": "13", "aa": "2", "E": "4", "ih": "6", "oh": "8", "ou": "7",
    },
}

# Azure: vowels by base letter (first letter of a diphthong unless the pair is listed).
_AZURE_VOWEL = {
    **dict.fromkeys("æɐəʌɘɤɜ", "1"), **dict.fromkeys("aɑ", "2"), **dict.fromkeys("ɔɒ", "3"),
    **dict.fromkeys("ɛeʊøœɞɶ", "4"), **dict.fromkeys("ɝɚ", "5"), **dict.fromkeys("iɪɨɯ", "6"),
    **dict.fromkeys("uyʉʏ", "7"), **dict.fromkeys("oɵ", "8"),
}
_AZURE_DIPHTHONG = {"aʊ": "9", "au": "9", "ɑʊ": "9", "ɑu": "9", "ɔɪ": "10", "ɔi": "10", "oɪ": "10", "aɪ": "11", "ai": "11", "ɑɪ": "11", "ɑi": "11"}
_AZURE_GLIDE = {"j": "6", "w": "7", "ɥ": "7", "ʍ": "7"}
_AZURE_GUTTURAL = frozenset("hɦħʕxχ")  # Azure 12 ("h"); ar-EG puts ħ ʕ x there too
_AZURE_RETROFLEX_SIBILANT = frozenset("ʂʐ")


class _Spec(Protocol):
    viseme: str
    target: Mapping[str, float]


def _base(symbol: str) -> str:
    return base_letters(symbol) or symbol


def is_vowel(symbol: str, oculus_class: str | None = None) -> bool:
    """True for vowels (and syllabic rhotic vowels), judged on the base letters."""
    base = _base(symbol)
    if base[0] in VOWEL_LETTERS:
        return True
    return oculus_class in _VOWEL_CLASSES and not (base[0] in _AZURE_GLIDE or base[0] in "ɰʋ")


def from_oculus(oculus_class: str, set_name: str) -> str:
    """The class of ``set_name`` that stands for an Oculus class (used when no symbol is known)."""
    if oculus_class not in OCULUS_15:
        raise InputError(f"{oculus_class!r} is not an Oculus viseme; use one of {', '.join(OCULUS_15)}.")
    check_set(set_name)
    return oculus_class if set_name == "oculus" else _FROM_OCULUS[set_name][oculus_class]


def phone_to_viseme(symbol: str, spec: _Spec, set_name: str) -> str:
    """The viseme of ``symbol`` in ``set_name``, from its pack spec (Oculus class + mouth target)."""
    check_set(set_name)
    oculus = spec.viseme
    if oculus not in OCULUS_15:
        raise InputError(f"Phone {symbol!r} has viseme {oculus!r}, which is not an Oculus class.")
    if set_name == "oculus":
        return oculus
    if set_name == "mpeg4":
        return _FROM_OCULUS["mpeg4"][oculus]
    if set_name == "rhubarb":
        return _rhubarb(symbol, oculus, spec.target)
    return _azure(symbol, oculus)


def _rhubarb(symbol: str, oculus: str, target: Mapping[str, float]) -> str:
    if oculus == "sil":
        return "X"
    base = _base(symbol)
    round_ = float(target.get("lip_round", 0.0))
    jaw = float(target.get("jaw_open", 0.0))
    if is_vowel(symbol, oculus):
        if base[0] in "ɝɚ" or "˞" in symbol:
            return "E"  # Rhubarb's ER
        if oculus == "ou" or round_ >= 0.7:
            return "F"
        if round_ >= 0.3:
            return "E"
        if jaw >= 0.6:
            return "D"
        return "C" if jaw >= 0.3 else "B"
    if oculus == "PP":
        return "A"
    if oculus == "FF":
        return "G"
    if base[0] in _LATERALS:
        return "H"
    if base[0] in "wɥʍ" or (oculus == "ou" and round_ >= 0.5):
        return "F"
    return "B"


def _azure(symbol: str, oculus: str) -> str:
    if oculus == "sil":
        return "0"
    base = _base(symbol)
    if "˞" in symbol and is_vowel(symbol, oculus):
        return "5"
    if is_vowel(symbol, oculus):
        vowels = "".join(ch for ch in base if ch in VOWEL_LETTERS)
        if vowels[:2] in _AZURE_DIPHTHONG:
            return _AZURE_DIPHTHONG[vowels[:2]]
        if vowels and vowels[0] in _AZURE_VOWEL:
            return _AZURE_VOWEL[vowels[0]]
        return _FROM_OCULUS["azure"][oculus]
    first, last = base[0], base[-1]
    if first in _AZURE_GLIDE and len(base) == 1:
        return _AZURE_GLIDE[first]
    if oculus == "PP":
        return "21"
    if oculus == "FF":
        return "18"
    if oculus == "TH":
        return "17" if first == "ð" else "19"
    if first in _LATERALS:
        return "14"
    if first == "ʔ":
        return "19"  # ar-EG and ur-PK both put the glottal stop with t d n
    if first in _AZURE_GUTTURAL:
        return "12"
    if last in _AZURE_RETROFLEX_SIBILANT:
        return "15"
    if oculus == "kk" or first in "ŋɴ":
        return "20"
    return _FROM_OCULUS["azure"][oculus]


def viseme_tier(phones: Tier, pack: Any, set_name: str = "oculus", *, duration: float | None = None) -> Tier:
    """A ``visemes`` tier for a phones tier: each phone's viseme in ``set_name``; identical neighbours
    that touch are merged; gaps (pauses, and the lead-in from 0 s) get the set's silence class; with
    ``duration`` the tail up to it too, so the tier covers the whole timeline.

    ``pack`` is anything with ``.phone(symbol) -> PhoneSpec``.
    """
    check_set(set_name)
    silence = SILENCE[set_name]
    pieces: list[tuple[float, float, str]] = []
    cursor = 0.0
    for iv in phones:
        if iv.start > cursor + TIME_EPSILON:
            pieces.append((cursor, iv.start, silence))
        pieces.append((iv.start, iv.end, phone_to_viseme(iv.label, pack.phone(iv.label), set_name)))
        cursor = max(cursor, iv.end)
    if duration is not None and duration > cursor + TIME_EPSILON:
        pieces.append((cursor, float(duration), silence))
    merged: list[list[Any]] = []
    for start, end, label in pieces:
        if merged and merged[-1][2] == label and abs(merged[-1][1] - start) <= TIME_EPSILON:
            merged[-1][1] = end
        else:
            merged.append([start, end, label])
    return Tier(VISEMES, tuple(Interval(s, e, lab) for s, e, lab in merged))
