"""Feature vectors and the universal feature-based fallback (viseme + mouth target for any IPA phone)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.lang_packs import fallback_phone
from visemes.lang_packs.fallback import mouth_target, viseme_class
from visemes.lang_packs.features import N_FEATURES, phone_features
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.vocabulary import OCULUS_15


def test_feature_vector_shape_and_values():
    v = phone_features("p")
    assert v.dtype == np.float32 and v.shape == (N_FEATURES,) and N_FEATURES == 24
    assert set(np.unique(v)) <= {-1.0, 0.0, 1.0}
    assert not np.array_equal(phone_features("p"), phone_features("b"))


def test_affricate_is_one_segment_with_delayed_release():
    tsh = phone_features("tʃ")
    assert np.array_equal(tsh, phone_features("t͡ʃ"))
    assert not np.array_equal(tsh, phone_features("t")) and not np.array_equal(tsh, phone_features("ʃ"))


def test_unknown_symbols_fall_back_to_base_or_zeros():
    assert np.array_equal(phone_features("g"), phone_features("ɡ"))
    assert np.array_equal(phone_features("p☃"), phone_features("p"))  # unknown trailing mark dropped
    assert not phone_features("☃").any()


@pytest.mark.parametrize(
    "symbol,viseme",
    [("p", "PP"), ("m", "PP"), ("f", "FF"), ("ʋ", "FF"), ("θ", "TH"), ("ð", "TH"), ("t", "DD"), ("ʈ", "DD"),
     ("n", "nn"), ("l", "nn"), ("s", "SS"), ("ts", "SS"), ("ʃ", "CH"), ("tʃ", "CH"), ("ɕ", "CH"), ("ʂ", "CH"),
     ("k", "kk"), ("q", "kk"), ("ʕ", "kk"), ("r", "RR"), ("ɹ", "RR"), ("ɾ", "RR"), ("a", "aa"), ("ɑː", "aa"),
     ("e", "E"), ("ɛ", "E"), ("i", "ih"), ("ɪ", "ih"), ("o", "oh"), ("ɔ", "oh"), ("u", "ou"), ("y", "ou"),
     ("w", "ou"), ("j", "ih"), ("ɚ", "RR"), ("☃", "sil"),
     # near-open central ɐ (panphon files it as front mid) and non-syllabic mid/open vowels keep their
     # vowel's shape (German der [deːɐ̯], diphthong ends), ɰ stays velar
     ("ɐ", "aa"), ("ɐ̃", "aa"), ("ɐ̯", "aa"), ("ə̯", "aa"), ("e̯", "E"), ("ɰ", "kk"),
     # ᵝ marks compressed lips (Japanese u: ɯᵝ, ɨᵝ, ɰᵝ): labial like the ja pack's ɯ, not spread ih
     ("ɯ̟ᵝ", "ou"), ("ɨᵝ", "ou"), ("ɰᵝ", "ou"), ("ɯ", "ih"), ("ʔ", "kk"), ("h", "kk"), ("ɦ", "kk")],
)
def test_fallback_viseme_classes(symbol, viseme):
    assert viseme_class(symbol) == viseme


def test_fallback_targets_follow_articulation():
    assert mouth_target("m")["lip_close"] == 1.0
    assert mouth_target("f")["lower_lip_tuck"] == 1.0
    assert mouth_target("θ")["tongue_out"] > 0.5
    assert mouth_target("a")["jaw_open"] > mouth_target("e")["jaw_open"] > mouth_target("i")["jaw_open"]
    assert mouth_target("u")["lip_round"] > 0.5 and mouth_target("i")["lip_spread"] > 0.5
    assert mouth_target("sˤ")["lip_round"] > mouth_target("s")["lip_round"]


IPA = "pbtdʈɖcɟkɡqɢʔmɱnɳɲŋɴʙrʀⱱɾɽɸβfvθðszʃʒʂʐçʝxɣχʁħʕhɦɬɮʋɹɻjɰlɭʎʟiyɨʉɯuɪʏʊeøɘɵɤoəɛœɜɞʌɔæɐaɶɑɒʍɥʜʢʡɕʑɺɧɓɗʄɠʛ"
MARKS = ["", "ʰ", "ː", "̃", "ʷ", "ˤ", "̪", "ʲ", "̩"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(IPA), st.sampled_from(MARKS), st.sampled_from(MARKS))
def test_fallback_is_total_and_bounded(base, m1, m2):
    symbol = base + m1 + m2
    assert phone_features(symbol).shape == (N_FEATURES,)
    assert viseme_class(symbol) in OCULUS_15 and viseme_class(symbol) != "sil"
    target = mouth_target(symbol)
    assert tuple(target) == ARTICULATION_PARAMS and all(0.0 <= v <= 1.0 for v in target.values())


def test_segment_table_equals_panphon():
    """features reads panphon's CSV itself (fast); its vectors must equal panphon.FeatureTable's."""
    import panphon

    from visemes.lang_packs.features import _segments

    table = panphon.FeatureTable()
    symbols = [b + m for b in IPA for m in MARKS + ["˞", "☃"]] + ["tʃ", "t͡ʃ", "dʒʰ", "ʈʂʰ", "ɻ̩", "ə˞", "aɪ", "ẽː"]
    for symbol in symbols:
        assert [list(v) for v in _segments(symbol)] == table.word_to_vector_list(symbol, numeric=True), symbol


@pytest.mark.parametrize("symbol, viseme, key", [
    ("pʲ", "PP", "lip_close"), ("bʲ", "PP", "lip_close"), ("mʲ", "PP", "lip_close"),
    ("fʲ", "FF", "lower_lip_tuck"), ("vʲ", "FF", "lower_lip_tuck"), ("m̩", "PP", "lip_close"),
])
def test_fallback_keeps_the_lip_gesture_of_palatalized_and_syllabic_labials(symbol, viseme, key):
    spec = fallback_phone(symbol)
    assert spec.viseme == viseme
    assert spec.target[key] >= 0.95


@pytest.mark.parametrize("symbol", ["m̩", "n̩", "l̩"])
def test_fallback_syllabic_consonants_are_not_shaped_like_vowels(symbol):
    target = fallback_phone(symbol).target
    assert target["jaw_open"] <= 0.2 and target["lip_spread"] == 0.0
