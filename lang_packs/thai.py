"""Thai text -> words with a tone per syllable, for the th pack (epitran reads the segments).

Thai is written without spaces between words, and its tones are not in the letters' sounds but in
the spelling rules (consonant class, tone mark, live or dead syllable). PyThaiNLP (Apache-2.0; its
dictionaries ship in the wheel, nothing is downloaded) gives both:

* words: ``word_tokenize(engine="newmm")``, maximal matching on its Thai word list; each word becomes
  one Transcript word (a run of text was one word before);
* syllables: ``syllable_tokenize(engine="dict")`` on its syllable list, and each syllable's tone by the
  orthographic rules (``tone_detector``): mid, low, falling, high, rising.

The pack puts one tone on each vowel nucleus epitran gives, in order, when the counts agree (every
syllable of 755 of the 1,000 WikiPron dev words gets a tone; 92% of those tones equal Wiktionary's);
otherwise the word keeps no tone, never a guessed one. Letters silenced by the thanthakhat in pairs
epitran misreads are left out of what it is handed (see _SILENT).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable

from visemes.core.errors import BackendUnavailableError

from visemes.lang_packs.text import Piece

TONE_NAMES = {"m": "mid", "l": "low", "f": "falling", "h": "high", "r": "rising"}
# The thanthakhat ์ silences its letter, and in a few spellings the letter before it as well: a ร under
# ์ after ต ท ด that follow the syllable's final consonant (ศาสตร์ sàat, มนตร์ mon, จันทร์ tɕan), ษณ์
# (ลักษณ์ lák), and a consonant + u under ์ (พันธุ์ pʰan). epitran reads a lone ์ right but these
# as a syllable (ศาสตร์ s aː s o t): they are left out of what it is handed.
_SILENT = re.compile("(?<=[\u0e01-\u0e2e])(?:[\u0e15\u0e17\u0e14]\u0e23|\u0e29\u0e13|[\u0e01-\u0e2e]\u0e38)\u0e4c")


@functools.lru_cache(maxsize=1)
def _pythainlp() -> tuple[Callable, Callable, Callable, frozenset]:
    # PyThaiNLP creates ~/pythainlp-data at import (for corpora it would download; we use only what its wheel
    # ships): read-only mode stops that write into the user's home, unless the user chose otherwise
    os.environ.setdefault("PYTHAINLP_READ_ONLY", "1")
    try:
        # imported on first use: ~20 MB of dictionaries that only Thai needs
        from pythainlp.corpus import thai_syllables
        from pythainlp.tokenize import syllable_tokenize, word_tokenize
        from pythainlp.util import tone_detector
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BackendUnavailableError("Thai word breaks and tones need PyThaiNLP: pip install pythainlp.") from exc
    return word_tokenize, syllable_tokenize, tone_detector, frozenset(thai_syllables())


def words(chunk: str) -> list[tuple[str, tuple[str, ...] | None]]:
    """``[(word, tones or None)]`` for a run of Thai text: ขอบคุณครับ -> [("ขอบคุณ", ("low", "mid")), ...]."""
    word_tokenize = _pythainlp()[0]
    return [(word, _tones(word)) for word in word_tokenize(chunk, engine="newmm", keep_whitespace=False)]


@functools.lru_cache(maxsize=65536)  # running text repeats its words: each is cut into syllables once
def _tones(word: str) -> tuple[str, ...] | None:
    _, syllable_tokenize, tone_detector, syllable_list = _pythainlp()
    # a word that is one syllable of the list needs no cutting (most words of running text)
    syllables = [word] if word in syllable_list else syllable_tokenize(word, engine="dict")
    # tones of the syllables as said: without their silent letters (ศาสตร์ is read as ศาส, low)
    tones = tuple(TONE_NAMES.get(tone_detector(_SILENT.sub("", s) or s), "") for s in syllables)
    return tones if tones and all(tones) else None


def read(chunk: str) -> list[Piece]:
    """One orthographic chunk -> one piece per Thai word, with its syllables' tones."""
    return [Piece(word, _SILENT.sub("", word) or word, tones=tones) for word, tones in words(chunk)]
