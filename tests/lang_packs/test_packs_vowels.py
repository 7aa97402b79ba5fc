"""Unwritten vowels in running text. Arabic sentences typed with full vowel marks (tashkeel, checked by hand
against Ryding, A Reference Grammar of Modern Standard Arabic, 2005), read once as written and once with
the marks removed, as real text comes. The reading without marks must keep the short vowels that the marks
spell, outside the case endings (a word's final short vowel or tanwin, which speakers often drop)."""

from __future__ import annotations

import re
import sys
import unicodedata

import pytest

from visemes import lang_packs
from visemes.alignment.evaluate import match_labels
from visemes.lang_packs import arabic
from visemes.lang_packs.arabic import letters, pausal
from visemes.lang_packs.features import is_syllabic
from visemes.lang_packs.marks import espeak_order
from visemes.lang_packs.text import orthographic_words

# Modern Standard Arabic, news and everyday sentences (written for this test; not from the dev words).
ARABIC = (
    "ذَهَبَ الطَّالِبُ إِلَى الْمَدْرَسَةِ فِي الصَّبَاحِ.",
    "يَعْمَلُ أَبِي فِي مُسْتَشْفًى كَبِيرٍ فِي الْمَدِينَةِ.",
    "قَرَأَتِ الْبِنْتُ كِتَابًا جَدِيدًا عَنْ تَارِيخِ الْعَرَبِ.",
    "اجْتَمَعَ وُزَرَاءُ الْخَارِجِيَّةِ الْعَرَبُ فِي الْقَاهِرَةِ أَمْسِ لِمُنَاقَشَةِ الْأَوْضَاعِ فِي الْمِنْطَقَةِ.",
    "أَعْلَنَتِ الْحُكُومَةُ عَنْ خُطَّةٍ جَدِيدَةٍ لِتَحْسِينِ التَّعْلِيمِ وَالصِّحَّةِ.",
    "نَحْنُ نُحِبُّ أَنْ نُسَافِرَ إِلَى الْبَحْرِ فِي الصَّيْفِ.",
    "هَلْ تَسْتَطِيعُ أَنْ تُسَاعِدَنِي فِي حَمْلِ هَذِهِ الْحَقِيبَةِ؟",
    "كَانَ الْجَوُّ جَمِيلًا، فَخَرَجْنَا إِلَى الْحَدِيقَةِ وَلَعِبْنَا بِالْكُرَةِ.",
    "تَتَكَوَّنُ الْجُمْلَةُ الْعَرَبِيَّةُ مِنْ فِعْلٍ وَفَاعِلٍ وَمَفْعُولٍ بِهِ.",
    "يَسْكُنُ أَخِي فِي بَيْتٍ صَغِيرٍ قُرْبَ النَّهْرِ.",
    "شَكَرَ الْمُدِيرُ الْمُوَظَّفِينَ عَلَى جُهُودِهِمْ خِلَالَ الْعَامِ الْمَاضِي.",
    "سَتَبْدَأُ الدِّرَاسَةُ فِي الْجَامِعَاتِ بَعْدَ أُسْبُوعَيْنِ.",
)

# Persian (Tehrani), everyday sentences as they are written (no vowel marks, no ezafe), with their phones
# transcribed by hand in the fa pack's notation (a = /æ/; Mahootian, Persian, 1997; Majidi & Ternes 1991).
# The ezafe (-e, -je after a vowel) is the vowel the script never writes.
PERSIAN = (
    ("کتاب من روی میز است.", "k e t ɒː b e | m a n | r u j e | m i z | ʔ a s t"),
    ("خانه ما در شهر تهران است.", "x ɒː n e j e | m ɒː | d a r | ʃ a h r e | t e h r ɒː n | ʔ a s t"),
    ("هوای امروز خیلی سرد است.", "h a v ɒː j e | ʔ e m r u z | x e j l i | s a r d | ʔ a s t"),
    ("پدر علی یک ماشین قرمز خرید.", "p e d a r e | ʔ a l i | j e k | m ɒː ʃ i n e | ɢ e r m e z | x a r i d"),
    ("ما فردا به دیدن مادربزرگ می‌رویم.", "m ɒː | f a r d ɒː | b e | d i d a n e | m ɒː d a r b o z o r ɡ | m i r a v i m"),
    ("رنگ دیوار اتاق من سفید است.", "r a n ɡ e | d i v ɒː r e | ʔ o t ɒː ɢ e | m a n | s e f i d | ʔ a s t"),
    ("مردم در بازار بزرگ شهر میوه می‌خرند.", "m a r d o m | d a r | b ɒː z ɒː r e | b o z o r ɡ e | ʃ a h r | m i v e | m i x a r a n d"),
    ("برادر من مهندس برق است.", "b a r ɒː d a r e | m a n | m o h a n d e s e | b a r ɢ | ʔ a s t"),
    ("دانشگاه تهران در مرکز شهر است.", "d ɒː n e ʃ ɡ ɒː h e | t e h r ɒː n | d a r | m a r k a z e | ʃ a h r | ʔ a s t"),
    ("مادرم در آشپزخانه غذای خوشمزه‌ای درست کرد.",
     "m ɒː d a r a m | d a r | ʔ ɒː ʃ p a z x ɒː n e | ɢ a z ɒː j e | x o ʃ m a z e ʔ i | d o r o s t | k a r d"),
)
_PERSIAN_SHORT = frozenset("aeo")  # Persian's short vowels /æ e o/ (the ezafe is e)


def persian_short_vowel_recall(pack, rows) -> tuple[int, int]:
    """(short vowels of the hand transcriptions, how many the reading has at the aligned place, same viseme)."""
    total = same = 0
    for text, expected in rows:
        words = [w.split() for w in expected.split("|")]
        got = pack.phonemize(text).words
        assert len(got) == len(words), text
        for ref, word in zip(words, got):
            hyp = list(word.symbols)
            for gi, pj in _pairs(ref, hyp):
                if ref[gi] in _PERSIAN_SHORT:
                    total += 1
                    same += pj is not None and pack.phone(hyp[pj]).viseme == pack.phone(ref[gi]).viseme
    return total, same


_SHORT_MARKS = re.compile("[\u064e\u064f\u0650]")  # fatha, damma, kasra
# a mark that spells a long vowel with its letter (fatha + ا/ى, kasra + ي, damma + و with no mark of its own)
_LONG = re.compile("\u064e(?=[\u0627\u0649](?![\u064b-\u0652]))|\u0650(?=\u064a(?![\u064b-\u0652]))|"
                   "\u064f(?=\u0648(?![\u064b-\u0652]))")


def _stem_short_vowels(vocalized: str) -> int:
    """Short vowels the marks spell in a word, leaving out its case ending (its final vowel or tanwin)."""
    body = _LONG.sub("", vocalized.rstrip("\u064b\u064c\u064d\u064e\u064f\u0650\u0652"))
    return len(_SHORT_MARKS.findall(body))


def _short(sym: str) -> bool:
    return is_syllabic(sym) and "ː" not in sym


def _pairs(gold: list[str], pred: list[str]) -> list[tuple[int, int | None]]:
    """Gold index -> predicted index of one minimum edit alignment (as benchmarks/g2p.py aligns)."""
    of_gold = {g: p for p, g in match_labels(pred, gold).pairs}
    return [(g, of_gold.get(g)) for g in range(len(gold))]


def short_vowel_recall(pack, sentences) -> tuple[int, int, int]:
    """(reference short vowels outside case endings, present as a vowel, present as the same vowel)."""
    total = present = same = 0
    for sentence in sentences:
        marked = orthographic_words(sentence)
        plain = pack.phonemize(letters(sentence)).words
        assert len(plain) == len(marked), sentence
        for word, got in zip(marked, plain):
            ref = [p.symbol for p in pack.phonemize(espeak_order(pausal(word))).phones]
            if letters(word).startswith("ال"):  # the article's (ʔ)a- (hamzat al-wasl) has no mark to read
                ref = ref[2:] if ref[:2] == ["ʔ", "a"] else ref[1:] if ref[:1] == ["a"] else ref
            hyp = list(got.symbols)
            n_ref = sum(_short(s) for s in ref)
            assert n_ref or not _stem_short_vowels(word), (word, ref)  # the reference reads the marks
            for gi, pj in _pairs(ref, hyp):
                if _short(ref[gi]):
                    total += 1
                    present += pj is not None and is_syllabic(hyp[pj])
                    same += pj is not None and pack.phone(hyp[pj]).viseme == pack.phone(ref[gi]).viseme
    return total, present, same


@pytest.mark.parametrize("code", ["ar"])
def test_arabic_running_text_keeps_short_vowels(packs, code):
    total, present, same = short_vowel_recall(packs(code), ARABIC)
    assert total > 120  # the stems of these sentences spell 146
    assert present / total >= 0.90, (present, total)
    assert same / total >= 0.85, (same, total)



def test_persian_running_text_keeps_short_vowels_and_ezafe(packs):
    total, same = persian_short_vowel_recall(packs("fa"), PERSIAN)
    assert total > 80
    assert same / total >= 0.95, (same, total)


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_pause_forms_in_any_normalization(form):
    """Hand-checked pause forms (Ryding 2005, §2.6): case vowel and tanwin dropped, -an -> -aː, ة -> -a,
    ـاة -> -aː, a final shadda kept."""
    cases = {"كِتَابًا": "كِتَابَا", "مُسْتَشْفًى": "مُسْتَشْفَى", "الْمَدْرَسَةِ": "الْمَدْرَسَ", "حَيَاةٌ": "حَيَا",
             "خُطَّةٍ": "خُطَّ", "نُحِبُّ": "نُحِبّ", "بَيْتٍ": "بَيْت"}
    for word, said in cases.items():
        got = pausal(unicodedata.normalize(form, word))
        assert unicodedata.normalize("NFC", got) == unicodedata.normalize("NFC", said), word


def test_arabic_without_the_diacritizer_warns_and_still_reads(monkeypatch):
    """Python 3.10 has no diacritizer wheel: the pack still reads (lexicon, espeak-ng's guesses) and says so."""
    monkeypatch.setitem(sys.modules, "dengjen_tashkeel_py", None)
    arabic._diacritizer.cache_clear()
    try:
        pack = lang_packs.load("ar")
        with pytest.warns(arabic.DiacritizerWarning, match="dengjen-tashkeel-py"):
            words = pack.phonemize("ذهب الطالب إلى المدرسة").words
        assert len(words) == 4 and all(w.symbols for w in words)
        assert words[3].symbols[-1] == "a"  # the lexicon still reads ة before the pause as -a
    finally:
        arabic._diacritizer.cache_clear()
