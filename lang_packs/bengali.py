"""Bengali text as espeak-ng's ``bn`` voice reads it right: a vowel after a nukta consonant.

espeak-ng 1.52's bn voice drops the vowel sign that follows a nukta consonant (ড় ঢ় য়, which NFC
writes as the letter + U+09BC): বাড়ি "house" came out b a ɽ, পড়া "read" p ɔ ɽ, খাওয়া "eat" kʰ a o -
the mouth closes where the word has a vowel. Written with the independent vowel letter instead
(বাড়ই), espeak reads the vowel, with an inherent ɔ before it that the bn pack's rules remove
(ɽ ɔ i -> ɽ i). The word's text stays as written; only what espeak is handed changes.
"""

from __future__ import annotations

import re

from visemes.lang_packs.text import Piece

# dependent vowel sign -> independent vowel letter (ো ৌ also in their two-part decomposed spellings)
_INDEPENDENT = {
    "\u09be": "\u0986", "\u09bf": "\u0987", "\u09c0": "\u0988", "\u09c1": "\u0989", "\u09c2": "\u098a",
    "\u09c3": "\u098b", "\u09c7": "\u098f", "\u09c8": "\u0990", "\u09cb": "\u0993", "\u09cc": "\u0994",
    "\u09c7\u09be": "\u0993", "\u09c7\u09d7": "\u0994",
}
_AFTER_NUKTA = re.compile("(?<=[\u09a1\u09a2\u09af]\u09bc)(\u09c7\u09be|\u09c7\u09d7|[\u09be-\u09c3\u09c7\u09c8\u09cb\u09cc])")


def for_espeak(word: str) -> str:
    """বাড়ি -> বাড়ই: the vowel sign after ড় ঢ় য় as its independent letter (see the module doc)."""
    return _AFTER_NUKTA.sub(lambda m: _INDEPENDENT[m.group(1)], word)


def read(chunk: str) -> list[Piece]:
    """One orthographic chunk -> one piece, its text as written and what espeak is handed."""
    return [Piece(chunk, for_espeak(chunk))]
