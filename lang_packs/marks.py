"""Arabic and Hebrew combining marks in the order espeak-ng reads them (the last step before espeak).

Unicode canonical ordering (NFC and NFD) sorts combining marks by combining class. Arabic vowel signs
have lower classes than shadda (fatha 30, damma 31, kasra 32, tanwin 27-29 < shadda 33), so NFC turns
the typed ``م + shadda + fatha`` into ``م + fatha + shadda``; espeak-ng's ``ar`` rules then double the
consonant and drop the vowel (مُحَمَّدٌ -> m u ħ a mː d u n). Hebrew points (sheva 10 ... qubuts 20)
sort before dagesh (21) and the shin/sin dot (24/25), and espeak-ng's ``he`` voice then spells the
marks out by their English names. Text arrives in any form (typed, NFC from a web page, NFD from a
file system), so every form is brought to one order here:

* Arabic: shadda first, then vowels, tanwin, sukun, superscript alef (others keep their order);
* Hebrew: shin/sin dot, then dagesh/mapiq and rafe, then vowel points, then meteg and te'amim.

The result is in no Unicode normal form: call :func:`espeak_order` on the string handed to espeak-ng
and never normalize it again.
"""

from __future__ import annotations

import unicodedata

SHADDA = "\u0651"

_HEBREW_RANK = {"\u05c1": 0, "\u05c2": 0, "\u05bc": 1, "\u05bf": 1}  # shin/sin dot; dagesh/mapiq, rafe
_HEBREW_VOWELS = frozenset(chr(c) for c in range(0x05B0, 0x05BC)) | {"\u05c7", "\u05bb"}
_HEBREW_LATE = frozenset(chr(c) for c in range(0x0591, 0x05B0)) | {"\u05bd", "\u05c4", "\u05c5"}
_UNKNOWN = 9  # any other combining mark: after the known ones, in its original order


def mark_rank(ch: str) -> int:
    """Sort key of a combining mark within its run (lower first)."""
    if ch == SHADDA:
        return 0
    if "\u064b" <= ch <= "\u065f" or ch == "\u0670":  # harakat, tanwin, sukun, superscript alef
        return 1
    if ch in _HEBREW_RANK:
        return _HEBREW_RANK[ch]
    if ch in _HEBREW_VOWELS:
        return 2
    if ch in _HEBREW_LATE:
        return 3
    return _UNKNOWN


def espeak_order(text: str) -> str:
    """``text`` (typed, NFC or NFD) with every run of Arabic/Hebrew marks in espeak-ng's order."""
    # NFC first: one starting order whatever the input, and precomposed letters (أ آ é) stay precomposed
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    run: list[str] = []
    for ch in text:
        if unicodedata.combining(ch):
            run.append(ch)
            continue
        if run:
            out.extend(sorted(run, key=mark_rank))  # stable: equal ranks keep canonical order
            run = []
        out.append(ch)
    out.extend(sorted(run, key=mark_rank))
    return "".join(out)


def has_marks(text: str) -> bool:
    """True when ``text`` carries Arabic harakat/shadda/sukun or Hebrew points (vocalized text)."""
    return any(mark_rank(ch) < _UNKNOWN and unicodedata.combining(ch) for ch in text)


_ARABIC_VOWELS = frozenset("\u064b\u064c\u064d\u064e\u064f\u0650\u0670")  # tanwin, fatha, damma, kasra, dagger alef


def has_vowel_marks(text: str) -> bool:
    """True when ``text`` writes vowels with marks (Hebrew niqqud vowel points, Arabic harakat): a
    dagesh or shin dot alone says nothing about the vowels."""
    return any(ch in _HEBREW_VOWELS or ch in _ARABIC_VOWELS for ch in text)
