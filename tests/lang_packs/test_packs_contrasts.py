"""The contrasts issue #2 names, pinned as pairs: both sides must differ in exactly the named way.

The golden files pin each word alone; these tests fail also when a normalizer change makes the two
sides of a contrast collapse into the same phones (or the same tone).
"""

from __future__ import annotations

import pytest


def _phones(pack, text):
    return [(p.symbol, p.attrs.get("tone")) for p in pack.phonemize(text).phones]


@pytest.mark.parametrize("a,b", [("妈", "吗"), ("妈", "麻"), ("马", "骂")])
def test_mandarin_syllables_differ_only_in_tone(packs, a, b):
    pa, pb = _phones(packs("cmn"), a), _phones(packs("cmn"), b)
    assert [s for s, _ in pa] == [s for s, _ in pb]
    assert [t for _, t in pa] != [t for _, t in pb]
    assert all("\u02e5" not in s and not s[-1].isdigit() for s, _ in pa)  # the tone is no phone


@pytest.mark.parametrize("emphatic,plain,ep,pp", [("صَيْف", "سَيْف", "sˤ", "s"), ("طِين", "تِين", "tˤ", "t"),
                                                   ("ضَلّ", "دَلّ", "dˤ", "d")])
def test_arabic_emphatic_vs_plain(packs, emphatic, plain, ep, pp):
    pack = packs("ar")
    e, p = pack.phonemize(emphatic).phones, pack.phonemize(plain).phones
    assert e[0].symbol == ep and p[0].symbol == pp
    assert pack.phone(ep).explicit and pack.phone(ep).viseme == pack.phone(pp).viseme


@pytest.mark.parametrize("aspirated,plain,ap,pp", [("फल", "पल", "pʰ", "p"), ("खल", "कल", "kʰ", "k"),
                                                    ("थन", "तन", "t̪ʰ", "t̪"), ("भर", "बर", "bʰ", "b")])
def test_hindi_aspirated_vs_plain_stops(packs, aspirated, plain, ap, pp):
    pack = packs("hi")
    a, p = [x.symbol for x in pack.phonemize(aspirated).phones], [x.symbol for x in pack.phonemize(plain).phones]
    assert a[0] == ap and p[0] == pp and a[1:] == p[1:]
    assert pack.phone(ap).explicit and pack.phone(ap).viseme == pack.phone(pp).viseme
