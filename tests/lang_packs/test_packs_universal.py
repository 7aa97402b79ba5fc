"""The universal pack (no language): feature-based phone specs for any IPA phone, no text reading."""

import pytest

from visemes import lang_packs
from visemes.core.errors import TranscriptError


def test_universal_pack_maps_any_ipa_phone_by_features():
    pack = lang_packs.universal()
    assert pack.code == "und" and pack.generic
    # hand-checked classes: bilabial stop, labiodental fricative, open vowel, rounded close back vowel
    assert [pack.phone(s).viseme for s in ("p", "f", "a", "u")] == ["PP", "FF", "aa", "ou"]


def test_universal_pack_refuses_text_with_a_hint():
    with pytest.raises(TranscriptError, match="--lang"):
        lang_packs.universal().phonemize("hello")
