"""lang_packs front door: load() lookup rules, generic packs, errors, PhoneSpec/LanguagePack contracts."""

from __future__ import annotations

import dataclasses

import pytest

from visemes import lang_packs
from visemes.lang_packs import LanguagePack, PhoneSpec
from visemes.lang_packs.schema import BACKENDS
from packs_util import builtin_codes
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import TranscriptError, UnknownLanguageError
from visemes.core.timeline import Transcript
from visemes.core.vocabulary import OCULUS_15


@pytest.mark.parametrize("code", ["cmn", "CMN", "zh", "zh_CN", "zh-cn", " cmn "])
def test_load_is_case_and_separator_insensitive(code):
    assert lang_packs.load(code).code == "cmn"


def test_load_hindi_alias_and_underscore():
    assert lang_packs.load("hi_IN").code == "hi"


def test_unknown_language_lists_closest_codes():
    with pytest.raises(UnknownLanguageError) as info:
        lang_packs.load("cmm")
    assert "cmn" in str(info.value) and "visemes langs" in str(info.value)
    with pytest.raises(UnknownLanguageError):
        lang_packs.load("")


def test_generic_pack_for_any_espeak_voice(packs):
    pack = packs("ka")  # Georgian: an espeak voice with no pack file
    assert pack.generic and pack.voice == "ka" and pack.parent is None
    tr = pack.phonemize("გამარჯობა მეგობარო")
    assert len(tr.words) == 2 and tr.lang == "ka"
    for p in tr.phones:
        spec = pack.phone(p.symbol)
        assert not spec.explicit and spec.viseme in OCULUS_15 and spec.viseme != "sil"


@pytest.mark.parametrize("code", builtin_codes())
def test_inventory_is_valid(packs, code):
    pack = packs(code)
    assert isinstance(pack, LanguagePack) and pack.inventory
    for symbol, spec in pack.inventory.items():
        assert spec.symbol == symbol and spec.explicit
        assert spec.viseme in OCULUS_15 and spec.viseme != "sil"
        assert tuple(spec.target) == ARTICULATION_PARAMS
        assert all(0.0 <= v <= 1.0 for v in spec.target.values())
    with pytest.raises(dataclasses.FrozenInstanceError):
        pack.code = "xx"  # type: ignore[misc]


def test_phone_spec_is_frozen_and_fallback_is_marked(packs):
    pack = packs("hi")
    spec = pack.phone("ʀ")  # uvular trill: no Hindi entry
    assert isinstance(spec, PhoneSpec) and not spec.explicit and spec.viseme == "kk"
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.viseme = "PP"  # type: ignore[misc]
    assert pack.phone("pʰ").explicit and pack.phone("pʰ").viseme == "PP"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_a_transcript_error(packs, text):
    with pytest.raises(TranscriptError):
        packs("ar").phonemize(text)


def test_text_without_phones_names_the_text(packs):
    with pytest.raises(TranscriptError) as info:
        packs("hi").phonemize("😀 🎉 !!")
    assert "😀 🎉 !!" in str(info.value)


@pytest.mark.parametrize("code,text,word", [("en-US", "hello Привет", "Привет"), ("ar", "مرحبا שלום", "שלום"),
                                            ("ja", "こんにちは 안녕", "안녕"), ("cmn", "你好 и", "и"),
                                            ("en-US", "مرحبا", "مرحبا"), ("ja", "Привет", "Привет"),
                                            ("ko", "韓國 한국", "韓國"), ("th", "สวัสดี hello", "hello")])
def test_words_in_a_script_the_backend_cannot_read_are_refused_by_name(packs, code, text, word):
    # espeak reads them letter by letter ("Hebrew letter shin ...", "Chinese letter" for kanji)
    with pytest.raises(TranscriptError, match="cannot read") as info:
        packs(code).phonemize(text)
    assert repr(word) in str(info.value) and "transliterate" in str(info.value)
    assert not packs(code).reads(word)
    assert packs(code).reads("Latin") == (packs(code).backend == "espeak")  # espeak reads Latin in English


def test_mixed_script_text_and_bare_digits_are_read(packs):
    assert packs("cmn").phonemize("我用iPhone").phones  # Latin: espeak switches to English, as speakers do
    assert packs("ar").phonemize("shukran jazilan").phones
    assert packs("en-US").phonemize("123").phones
    assert packs("sk").phonemize("dobrý deň").phones  # generic packs list no scripts: no check


def test_transcript_keeps_one_word_per_orthographic_word(packs):
    tr = packs("hi").phonemize("नमस्ते, दुनिया! 25")
    assert isinstance(tr, Transcript) and tr.lang == "hi"
    assert [w.text for w in tr.words] == ["नमस्ते", "दुनिया", "25"]
    tr = packs("ar").phonemize("كتب الطالب الدرس.")
    assert [w.text for w in tr.words] == ["كتب", "الطالب", "الدرس"]


def test_mandarin_words_get_their_characters(packs):
    tr = packs("cmn").phonemize("我们是中国人。你好！")
    assert "".join(w.text for w in tr.words) == "我们是中国人你好"
    assert all(w.text for w in tr.words)


def test_normalize_contract_on_raw_ipa_strings(packs):
    cmn = packs("cmn")
    # bare espeak IPA: tone 2 prints as "ɜ", tones 1 and 4 both as "5" (ambiguous without mnemonics)
    out = cmn.normalize(["ts.h", "ˈi.ɜ"])
    assert [p.symbol for p in out] == ["ʈʂʰ", "ɻ̩"]
    assert dict(out[1].attrs) == {"tone": "2", "stress": "primary"}
    assert cmn.normalize(["m", "ˈɑ5"])[1].attrs["tone"] == "1|4"
    # with (ipa, mnemonic) pairs the tone is exact
    assert cmn.normalize([("m", "m"), ("ˈɑ5", "'A51")])[1].attrs["tone"] == "4"
    hi = packs("hi")
    assert [p.symbol for p in hi.normalize(["b", "ˈʌ", "cʰcʰ", "aː"])] == ["b", "ʌ", "tʃʰː", "aː"]
    assert [p.symbol for p in hi.normalize(["p", "ˈʌ", "r.", "h", "ə"])] == ["p", "ʌ", "ɽʰ", "ə"]
    ar = packs("ar")
    assert [p.symbol for p in ar.normalize(["ʕʕ", "a", "s̪"])] == ["ʕː", "a", "sˤ"]


def test_stress_sits_on_a_vowel(packs):
    for code, text in [("ar", "مَدْرَسَة"), ("hi", "कमल")]:
        for p in packs(code).phonemize(text).phones:
            if "stress" in p.attrs:
                assert lang_packs.features.is_syllabic(p.symbol), (code, p)


def test_available_lists_builtin_packs():
    infos = {i.code: i for i in lang_packs.available()}
    for code in builtin_codes():
        info = infos[code]
        assert info.backend in BACKENDS and info.phone_count > 20 and info.origin == "builtin"
        assert info.coverage == 1.0


def test_every_espeak_voice_loads():
    from visemes.lang_packs.g2p import espeak_voices

    voices = espeak_voices()
    assert len(voices) > 100 and {"cmn", "ar", "hi", "sw", "yue"} <= voices
    for voice in voices:
        pack = lang_packs.load(voice)
        assert pack.voice.lower() == voice.lower() or pack.code.lower() == voice.lower()


def test_generic_pack_for_a_language_code_that_is_no_voice_name():
    from visemes.lang_packs.loader import generic

    # espeak's voice is roa/fr ("French"); fr-fr is only its language code (load("fr-fr") is the fr pack's alias)
    pack = generic("fr-fr")
    assert pack.generic and pack.voice == "fr-fr"
    assert [p.symbol for p in pack.phonemize("bonjour").phones][:3] == ["b", "ɔ̃", "ʒ"]


@pytest.mark.parametrize("code,first", [("no", "h"), ("hbs", "d")])
def test_generic_pack_for_a_secondary_espeak_language(packs, code, first):
    # listed only as a further language of an espeak voice (no -> nb, hbs -> bs), not by espeak_voices()
    from visemes.lang_packs.g2p import espeak_voices

    assert code not in espeak_voices()
    pack = packs(code)
    assert pack.generic and pack.voice == code
    word = {"no": "hei", "hbs": "dobar"}[code]
    assert pack.phonemize(word).phones[0].symbol == first


def test_first_load_needs_neither_pandas_nor_phonemizer():
    import subprocess
    import sys

    code = ("import sys, lang_packs; lang_packs.load('ar').phone('sˤ'); "
            "print(sorted(m for m in ('pandas', 'panphon', 'phonemizer', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_import_is_cheap():
    import subprocess
    import sys

    code = "import sys, lang_packs; print(sorted(m for m in ('panphon', 'phonemizer', 'epitran', 'wordfreq', 'jax') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_orthographic_words():
    from visemes.lang_packs.text import orthographic_words

    assert orthographic_words("l'homme, peut-être -- «oui» 😀 25%") == ["l'homme", "peut-être", "oui", "25"]
    assert orthographic_words("नमस्ते।  دنیا‌ها צה״ל") == ["नमस्ते", "دنیا‌ها", "צה״ל"]
    assert orthographic_words(" !! ") == []


@pytest.mark.parametrize("query, expected", [("mandarin", "cmn"), ("Egyptian", "ar-EG"), ("cantonese", "yue"), ("cmm", "cmn")])
def test_unknown_code_suggests_packs_by_code_or_language_name(query, expected):
    from visemes.core.errors import UnknownLanguageError

    with pytest.raises(UnknownLanguageError) as info:
        lang_packs.load(query)
    assert expected in str(info.value) and "visemes langs" in str(info.value)
