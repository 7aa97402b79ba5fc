"""Split text into orthographic words: runs of letters, marks and digits (with inner ' and -)."""

from __future__ import annotations

import functools
import unicodedata
from dataclasses import dataclass

# Characters that belong to a word although they are not letters: apostrophes, ZWNJ/ZWJ (Persian,
# Indic), Hebrew geresh and gershayim (ג׳, צה״ל).
_JOINERS = frozenset("'’ʼ\u200c\u200d\u05f3\u05f4")
_INNER = frozenset("-‐")  # hyphens count only between word characters ("peut-être")


def _wordish(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN" or ch in _JOINERS


def orthographic_words(text: str) -> list[str]:
    """Words of ``text`` in order; punctuation, symbols (emoji) and spaces separate words and are dropped."""
    words: list[str] = []
    cur: list[str] = []
    for i, ch in enumerate(text):
        if _wordish(ch) or (ch in _INNER and cur and i + 1 < len(text) and _wordish(text[i + 1])):
            cur.append(ch)
        else:
            if cur:
                words.append("".join(cur))
            cur = []
    if cur:
        words.append("".join(cur))
    return [w.strip("'’ʼ\u200c\u200d") for w in words if w.strip("'’ʼ\u200c\u200d")]


# CJK unified ideographs (+ extension A, B.., compatibility): one Han character is one syllable
_HAN_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x323AF))


def is_han(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _HAN_RANGES)


# ISO 15924 codes that name a writing system of several Unicode scripts (Unicode has no property for them).
_COMPOSITE_SCRIPTS = {"Hans": ("Hani",), "Hant": ("Hani",), "Jpan": ("Hani", "Hira", "Kana"), "Kore": ("Hang", "Hani")}


@functools.lru_cache(maxsize=64)
def script_pattern(scripts: tuple[str, ...]):
    """A `regex` pattern matching one letter of any of ``scripts`` (ISO 15924 codes, e.g. Latn, Hans, Jpan).

    Unicode script data comes from the `regex` package (epitran's dependency): the standard library has
    none. Raises ``ValueError`` for a code Unicode does not know."""
    import regex  # only when a pack checks text, not at import

    names = [u for s in scripts for u in _COMPOSITE_SCRIPTS.get(s, (s,))]
    try:
        return regex.compile("[" + "".join(rf"\p{{scx={n}}}" for n in names) + "]")
    except regex.error as exc:
        raise ValueError(f"unknown ISO 15924 script code in {list(scripts)} ({exc})") from None


@dataclass(frozen=True)
class Piece:
    """One word as a pack's reader (lang_packs.readers) gives it: its text, what the G2P backend is
    handed instead (pinyin, kana), and how many toned syllables that must give (None: not checked)."""

    surface: str
    spoken: str
    syllables: int | None = None
    tones: tuple[str, ...] | None = None  # one tone label per syllable, from the reader (Thai)
