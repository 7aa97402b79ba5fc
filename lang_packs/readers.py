"""Readers: language-specific text analysis run before the G2P backend (``[g2p] reader`` in a pack).

espeak-ng reads some scripts badly on its own: Han characters with one reading each and citation
tones (Mandarin), kanji not at all (Japanese). A reader turns one orthographic chunk into
:class:`~visemes.lang_packs.text.Piece` s, each a word and the text the backend reads for it (toned
pinyin, kana). One owner for the list of reader names: :data:`READERS`.

Vowel readers (``[g2p] vowels``) see the whole text at once (a word's vowels depend on its sentence) and
give, for each orthographic word, the text the backend reads for it: :data:`VOWELS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from visemes.lang_packs import arabic, bengali, japanese, mandarin, persian, thai
from visemes.lang_packs.text import Piece

Reader = Callable[[str], list[Piece]]
VowelReader = Callable[[str, Sequence[str]], list[str]]

READERS: Mapping[str, Reader] = MappingProxyType({
    "pinyin": mandarin.read,   # Mandarin: pypinyin readings + tone sandhi -> toned pinyin for espeak cmn
    "kana": japanese.read,     # Japanese: kanji -> kana from a morphological analyser (visemes[ja])
    "bengali": bengali.read,   # Bengali: vowel signs after nukta consonants as espeak reads them
    "thai": thai.read,         # Thai: word breaks and syllable tones (PyThaiNLP)
})


VOWELS: Mapping[str, VowelReader] = MappingProxyType({
    # Arabic (MSA): short vowels restored in context; case endings kept except before a pause
    "tashkeel": arabic.restore,
    # Arabic dialects (Egyptian, Levantine): the same, and every word in pause (no case endings)
    "tashkeel-pausal": lambda text, chunks: arabic.restore(text, chunks, every_word_pausal=True),
    # Persian: the unwritten ezafe (-e, -je) between a noun and its modifiers
    "ezafe": persian.restore,
})
