"""The vocabularies every layer shares: viseme class inventories and IPA letter helpers.

Language packs name an Oculus class per phone, the speech layer compares phone symbols, the mouth
converts between sets, exports and the CLI list the sets: one owner for those names, below them all.
"""

from __future__ import annotations

import unicodedata

from visemes.core.errors import InputError

#: Oculus / OpenXR lip-sync visemes, in their standard index order.
OCULUS_15: tuple[str, ...] = (
    "sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh", "ou",
)
#: MPEG-4 visemes 0..14 (labels are the numbers as text).
MPEG4_15: tuple[str, ...] = tuple(str(i) for i in range(15))
#: Azure Speech viseme ids 0..21 (labels are the numbers as text).
AZURE_22: tuple[str, ...] = tuple(str(i) for i in range(22))
#: Rhubarb Lip Sync / Preston Blair mouth shapes; X is rest.
RHUBARB_9: tuple[str, ...] = ("A", "B", "C", "D", "E", "F", "G", "H", "X")

VISEME_SETS: tuple[str, ...] = ("oculus", "azure", "rhubarb", "mpeg4")
_CLASSES: dict[str, tuple[str, ...]] = {"oculus": OCULUS_15, "azure": AZURE_22, "rhubarb": RHUBARB_9, "mpeg4": MPEG4_15}
#: The class that stands for silence / rest in each set.
SILENCE: dict[str, str] = {"oculus": "sil", "azure": "0", "rhubarb": "X", "mpeg4": "0"}

#: Base letters that are vowels .
VOWEL_LETTERS = frozenset("aeiouyæɑɐɒɔəɘɛɜɞɤɨɪʉʊʌɯøœɶʏɵɚɝ")
# Ligatures and variant letters folded before comparing symbols.
_FOLD = {"ʧ": "tʃ", "ʤ": "dʒ", "ʦ": "ts", "ʣ": "dz", "ʨ": "tɕ", "ʥ": "dʑ", "ɡ": "g", "ǝ": "ə"}


def classes(set_name: str) -> tuple[str, ...]:
    """The class labels of a viseme set, in its standard order."""
    return _CLASSES[check_set(set_name)]


def check_set(set_name: str) -> str:
    if not isinstance(set_name, str) or set_name not in _CLASSES:
        raise InputError(f"Unknown viseme set {set_name!r}; choose one of {', '.join(VISEME_SETS)}.")
    return set_name


def base_letters(symbol: str) -> str:
    """The letters of an IPA symbol: no stress, length, tone digits/letters, ties, diacritics, dots;
    ligatures and variant letters folded (ʧ -> tʃ, ɡ -> g). Empty when ``symbol`` has no letter.
    (Why: viseme tables and espeak's phoneme names list base phones.)"""
    text = unicodedata.normalize("NFD", symbol)
    for src, dst in _FOLD.items():
        text = text.replace(src, dst)
    return "".join(ch for ch in text if unicodedata.category(ch) in ("Ll", "Lo", "Lu"))
