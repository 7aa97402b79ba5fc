"""Vocalized Arabic and Hebrew read alike in typed, NFC and NFD mark order (lang_packs.marks).

Golden phones are hand-checked (muħammadun; šabbat, mišpat, šalom); the NFC rows also check that the
raw NFC string really is in the order espeak-ng misreads, so the test would fail without the fix.
"""

from __future__ import annotations

import unicodedata

import pytest

from visemes.lang_packs.marks import SHADDA, espeak_order, has_marks, has_vowel_marks

FATHA, DAMMA, DAMMATAN = "\u064e", "\u064f", "\u064c"
MUHAMMAD = "\u0645" + DAMMA + "\u062d" + FATHA + "\u0645" + SHADDA + FATHA + "\u062f" + DAMMATAN  # typed مُحَمَّدٌ
SHABBAT = "\u05e9\u05c1\u05b7\u05d1\u05bc\u05b8\u05ea"  # שַׁבָּת, typed: shin dot and dagesh before the vowel
MISHPAT = "\u05de\u05b4\u05e9\u05c1\u05b0\u05e4\u05bc\u05b8\u05d8"  # מִשְׁפָּט
SHALOM = "\u05e9\u05c1\u05b8\u05dc\u05d5\u05b9\u05dd"  # שָׁלוֹם
FORMS = ("typed", "NFC", "NFD")


def form(text: str, name: str) -> str:
    return text if name == "typed" else unicodedata.normalize(name, text)


def test_nfc_puts_the_vowel_before_shadda():
    nfc = unicodedata.normalize("NFC", MUHAMMAD)
    assert nfc != MUHAMMAD and nfc.index(SHADDA) > nfc.index(FATHA, 3)


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("text", [MUHAMMAD, SHABBAT, MISHPAT, SHALOM])
def test_every_form_gives_the_typed_order(text, name):
    assert espeak_order(form(text, name)) == text


def test_precomposed_and_plain_text_unchanged():
    for s in ("\u0623\u064e\u0633\u064e\u062f", "\u0622\u0645\u064e\u0646", "hello", "كتب", "שלום", "é", "नमस्ते"):
        assert espeak_order(s) == unicodedata.normalize("NFC", s)
    assert espeak_order("e\u0301") == "é"


def test_has_marks():
    assert has_marks(MUHAMMAD) and has_marks(SHABBAT)
    assert not has_marks("كتب") and not has_marks("שלום") and not has_marks("née")
    assert has_vowel_marks(MUHAMMAD) and has_vowel_marks(SHABBAT)
    assert not has_vowel_marks("\u05e9\u05c1\u05d1\u05bc\u05ea") and not has_vowel_marks("كتّب")  # dots, shadda: no vowels


@pytest.mark.parametrize("name", FORMS)
def test_arabic_reads_alike(packs, name):
    tr = packs("ar").phonemize(form(MUHAMMAD, name))
    assert [w.symbols for w in tr.words] == [["m", "u", "ħ", "a", "mː", "a", "d", "u", "n"]]


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("text,phones", [
    (SHABBAT, ["ʃ", "a", "b", "a", "t"]),
    (MISHPAT, ["m", "i", "ʃ", "p", "a", "t"]),
    (SHALOM, ["ʃ", "a", "l", "o", "m"]),
])
def test_hebrew_reads_alike(packs, name, text, phones):
    tr = packs("he").phonemize(form(text, name))
    assert [w.symbols for w in tr.words] == [phones]


def test_sentence_in_nfc(packs):
    text = unicodedata.normalize("NFC", f"{SHABBAT} {SHALOM}")
    assert [w.symbols for w in packs("he").phonemize(text).words] == [["ʃ", "a", "b", "a", "t"], ["ʃ", "a", "l", "o", "m"]]
