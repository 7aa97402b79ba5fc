"""espeak-ng's internal phoneme names (printed where a phoneme has no IPA spelling) never reach the
output of a generic pack: hand-checked words of voices that have no pack file."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("code,text,phones", [
    ("sv", "sju", ["ɧ", "ʉ"]),           # espeak prints "sx"
    ("da", "han er", ["h", "a", "n", "ɛ", "ɐ̯"]),  # "?ɑ"-style stød marks and a Greek ε
])
def test_generic_packs_write_ipa(packs, code, text, phones):
    assert packs(code).phonemize(text).symbols == phones


@pytest.mark.parametrize("code,text", [("sv", "sjuk stjärna skina"), ("is", "hvernig karl"), ("da", "er det")])
def test_no_espeak_names_left(packs, code, text):
    for symbol in packs(code).phonemize(text).symbols:
        assert not any(ch in symbol for ch in "#?ε-") and symbol != "sx", (code, symbol)
