"""Viseme sets and converters: Oculus (canonical), Azure ids, Rhubarb shapes, MPEG-4."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import InputError
from visemes.core.timeline import Interval, Tier
from visemes.mouth.visemesets import from_oculus, phone_to_viseme, viseme_tier
from visemes.core.vocabulary import OCULUS_15, SILENCE, VISEME_SETS, classes


@dataclass(frozen=True)
class Spec:
    symbol: str
    viseme: str
    target: dict = field(default_factory=dict)


def _spec(symbol: str):
    """The universal fallback's PhoneSpec (what lang_packs gives phones a pack does not list)."""
    from visemes.lang_packs import fallback_phone

    return fallback_phone(symbol)


class _Pack:
    def phone(self, symbol: str):
        return _spec(symbol)


# Azure Speech published tables (CC BY 4.0, Microsoft: "Get facial position with viseme", Azure AI
# Speech docs), the rows this test reproduces.
AZURE_EN_US = {
    "1": "æ ə ʌ", "2": "ɑ", "3": "ɔ", "4": "ɛ ʊ", "5": "ɝ", "6": "j i ɪ", "7": "w u", "8": "o", "9": "aʊ",
    "10": "ɔɪ", "11": "aɪ", "12": "h", "13": "ɹ", "14": "l", "15": "s z", "16": "ʃ tʃ dʒ ʒ", "17": "ð",
    "18": "f v", "19": "d t n θ", "20": "k g ŋ", "21": "p b m",
}
AZURE_AR_EG = (
    "a 2|aː 2|i 6|iː 6|u 7|uː 7|b 21|d 19|g 20|k 20|t 19|dˤ 19|q 20|tˤ 19|ʔ 19|f 18|h 12|ħ 12|s 15|θ 19|"
    "z 15|ðˤ 17|ð 17|ɣ 20|x 12|ʃ 16|sˤ 15|j 6|w 7|l 14|m 21|n 19|r 13|ʕ 12"
)
AZURE_UR_PK = (
    "p 21|b 21|pʰ 21|bʰ 21|m 21|t̪ 19|t̪ʰ 19|d̪ 19|d̪ʰ 19|n 19|ŋ 20|ʈ 19|ɖ 19|ʈʰ 19|ɖʰ 19|k 20|g 20|kʰ 20|"
    "gʰ 20|q 20|ʔ 19|f 18|v 18|s 15|z 15|ʃ 16|ʒ 16|ɣ 20|x 12|h 12|ʧ 16|ʧʰ 16|ʤ 16|ʤʰ 16|r 13|ɽ 13|j 6|"
    "l 14|i 6|e 4|æ 1|u 7|o 8|ɔ 3|a 2|ɪ 6|ɛ 4|ʊ 4|ə 1|ĩ 6|ẽ 4|ɛ̃ 4|ũ 7|õ 8|ɑ̃ 2|ɔ̃ 3"
)
# zh-CN pinyin initials (IPA as the cmn pack spells them) -> the last id of Azure's sequence
AZURE_ZH_INITIALS = (
    "p 21|pʰ 21|m 21|f 18|t 19|tʰ 19|n 19|l 14|k 20|kʰ 20|x 12|tɕ 16|tɕʰ 16|ɕ 16|ʈʂ 15|ʈʂʰ 15|ʂ 15|ʐ 15|"
    "ts 15|tsʰ 15|s 15|j 6|w 7"
)


def _rows(table: str) -> list[tuple[str, str]]:
    return [tuple(row.split()) for row in table.split("|")]


def test_sets_and_their_classes():
    assert VISEME_SETS == ("oculus", "azure", "rhubarb", "mpeg4")
    assert classes("oculus") == OCULUS_15
    assert classes("azure") == tuple(str(i) for i in range(22))
    assert classes("mpeg4") == tuple(str(i) for i in range(15))
    assert classes("rhubarb") == ("A", "B", "C", "D", "E", "F", "G", "H", "X")
    for name in VISEME_SETS:
        assert SILENCE[name] in classes(name)
    with pytest.raises(InputError, match="Unknown viseme set"):
        classes("disney")


@pytest.mark.parametrize("set_name", VISEME_SETS)
def test_every_oculus_class_maps_into_every_set(set_name):
    for cls in OCULUS_15:
        assert from_oculus(cls, set_name) in classes(set_name)
        for symbol in ("x", "a", "ʔ", "ə"):  # symbol refinements must stay inside the set too
            target = {p: 0.5 for p in ARTICULATION_PARAMS}
            assert phone_to_viseme(symbol, Spec(symbol, cls, target), set_name) in classes(set_name)
    assert from_oculus("sil", set_name) == SILENCE[set_name]
    # MPEG-4 and Oculus are the same 15 classes in the same order
    if set_name == "mpeg4":
        assert [from_oculus(c, "mpeg4") for c in OCULUS_15] == list(classes("mpeg4"))


GOLDEN = [  # symbol, oculus, rhubarb, azure, mpeg4
    ("p", "PP", "A", "21", "1"), ("b", "PP", "A", "21", "1"), ("m", "PP", "A", "21", "1"),
    ("f", "FF", "G", "18", "2"), ("v", "FF", "G", "18", "2"),
    ("θ", "TH", "B", "19", "3"), ("ð", "TH", "B", "17", "3"),
    ("t", "DD", "B", "19", "4"), ("k", "kk", "B", "20", "5"), ("tʃ", "CH", "B", "16", "6"),
    ("s", "SS", "B", "15", "7"), ("n", "nn", "B", "19", "8"), ("l", "nn", "H", "14", "8"),
    ("ɹ", "RR", "B", "13", "9"), ("ɑ", "aa", "D", "2", "10"), ("ɛ", "E", "C", "4", "11"),
    ("i", "ih", "B", "6", "12"), ("ɔ", "oh", "E", "3", "13"), ("u", "ou", "F", "7", "14"),
    ("w", "ou", "F", "7", "14"), ("ɝ", "RR", "E", "5", "9"), ("aɪ", "aa", "D", "11", "10"),
]


@pytest.mark.parametrize("symbol,oculus,rhubarb,azure,mpeg4", GOLDEN)
def test_golden_phones(symbol, oculus, rhubarb, azure, mpeg4):
    spec = _spec(symbol)
    assert spec.viseme == oculus
    got = {s: phone_to_viseme(symbol, spec, s) for s in VISEME_SETS}
    assert got == {"oculus": oculus, "rhubarb": rhubarb, "azure": azure, "mpeg4": mpeg4}


def test_rhubarb_vowels_follow_the_mouth_target():
    for target, shape in [
        ({"jaw_open": 0.8}, "D"), ({"jaw_open": 0.45}, "C"), ({"jaw_open": 0.1}, "B"),
        ({"jaw_open": 0.4, "lip_round": 0.4}, "E"), ({"jaw_open": 0.2, "lip_round": 0.9}, "F"),
    ]:
        assert phone_to_viseme("ɐ", Spec("ɐ", "aa", target), "rhubarb") == shape


@pytest.mark.parametrize(
    "table",
    [
        [(ipa, vid) for vid, ipas in AZURE_EN_US.items() for ipa in ipas.split()],
        _rows(AZURE_AR_EG),
        _rows(AZURE_UR_PK),
        _rows(AZURE_ZH_INITIALS),
    ],
    ids=["en-US", "ar-EG", "ur-PK", "zh-CN-initials"],
)
def test_azure_published_tables_are_reproduced(table):
    wrong = [(ipa, vid, phone_to_viseme(ipa, _spec(ipa), "azure")) for ipa, vid in table]
    wrong = [w for w in wrong if w[1] != w[2]]
    assert not wrong


def test_viseme_tier_merges_and_fills_gaps():
    phones = Tier("phones", (
        Interval(0.10, 0.20, "p"), Interval(0.20, 0.25, "b"), Interval(0.25, 0.40, "a"),
        Interval(0.60, 0.70, "m"), Interval(0.70, 0.80, "u"),
    ))
    tier = viseme_tier(phones, _Pack(), "oculus", duration=1.0)
    assert tier.name == "visemes"
    assert [(round(iv.start, 2), round(iv.end, 2), iv.label) for iv in tier] == [
        (0.0, 0.1, "sil"), (0.1, 0.25, "PP"), (0.25, 0.4, "aa"), (0.4, 0.6, "sil"), (0.6, 0.7, "PP"),
        (0.7, 0.8, "ou"), (0.8, 1.0, "sil"),
    ]
    rhubarb = viseme_tier(phones, _Pack(), "rhubarb")
    assert rhubarb.labels == ["X", "A", "D", "X", "A", "F"] and rhubarb.end == pytest.approx(0.8)
    azure = viseme_tier(phones, _Pack(), "azure", duration=0.8)
    assert azure.labels == ["0", "21", "2", "0", "21", "7"]
    # same visemes across a pause stay apart; covering the timeline means no gaps at all
    for a, b in zip(azure, azure.intervals[1:]):
        assert a.end == pytest.approx(b.start) and a.label != b.label
    mpeg = viseme_tier(Tier("phones", (Interval(0.0, 0.1, "t"), Interval(0.1, 0.2, "d"))), _Pack(), "mpeg4")
    assert mpeg.labels == ["4"] and mpeg[0].start == 0.0 and mpeg[0].end == pytest.approx(0.2)


def test_viseme_tier_of_empty_phones_is_silence():
    assert viseme_tier(Tier("phones", ()), _Pack(), "rhubarb", duration=0.5).labels == ["X"]
    assert len(viseme_tier(Tier("phones", ()), _Pack(), "rhubarb")) == 0


def test_real_pack_phones_map_into_every_set():
    from visemes import lang_packs

    for code in ("cmn", "ar", "hi"):
        pack = lang_packs.load(code)
        for symbol, spec in pack.inventory.items():
            for set_name in VISEME_SETS:
                assert phone_to_viseme(symbol, spec, set_name) in classes(set_name), (code, symbol, set_name)
    cmn = lang_packs.load("cmn")
    alignment_phones = Tier("phones", (Interval(0.0, 0.1, "p"), Interval(0.1, 0.3, "a"), Interval(0.3, 0.4, "ʂ")))
    assert viseme_tier(alignment_phones, cmn, "azure").labels == ["21", "2", "15"]
