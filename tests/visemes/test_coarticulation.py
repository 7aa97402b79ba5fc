"""Dominance-function coarticulation: properties the animation must always have."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.mouth.arkit import ARKIT_MOUTH
from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET
from visemes.mouth.coarticulation import CoarticulationParams, animate_phones, articulation_values
from visemes.core.curves import SUPPORTED_FPS
from visemes.core.errors import InputError
from visemes.core.timeline import Tier
from visemes.core.vocabulary import VISEME_SETS, classes
from _phone_tiers import phone_tier


@pytest.fixture(scope="module")
def pack():
    from visemes import lang_packs

    return lang_packs.load("en-us")


def _tier(spec, start=0.2):
    return phone_tier(spec, start)


def _during(anim, name, start, end):
    times = anim.articulation.times
    return anim.articulation.channel(name)[(times >= start) & (times < end)]


def test_output_layout(pack):
    phones, end = _tier([("h", 0.06), ("ɛ", 0.1), ("l", 0.07), ("oʊ", 0.2)])
    for set_name in VISEME_SETS:
        anim = animate_phones(phones, pack, 30, end + 0.2, viseme_set=set_name)
        assert anim.articulation.channels == ARTICULATION_PARAMS
        assert anim.blendshapes.channels == ARKIT_MOUTH
        assert anim.visemes.channels == classes(set_name)
        assert anim.n_frames == int(np.floor((end + 0.2) * 30 + 1e-9)) + 1 and anim.fps == 30.0
        assert anim.source == "coarticulation" and anim.visemes.meta["viseme_set"] == set_name
        assert np.allclose(anim.visemes.values.sum(axis=1), 1.0, atol=1e-5)


def test_anticipatory_rounding(pack):
    """Lips round during /k/ before /u/ (and not before /i/), in the /k/'s own interval."""
    rounds = {}
    for vowel in ("u", "i"):
        phones, end = _tier([("k", 0.08), (vowel, 0.15)])
        anim = animate_phones(phones, pack, 60, end + 0.3)
        rounds[vowel] = _during(anim, "lip_round", 0.2, 0.28)
    assert rounds["u"].mean() > 0.3 and rounds["i"].max() < 0.05
    assert np.all(rounds["u"] > rounds["i"])
    assert np.all(np.diff(rounds["u"]) > 0)  # rising towards the vowel


def test_vowel_reaches_its_target_and_silence_returns_to_rest(pack):
    phones, end = _tier([("ɑ", 0.4), (None, 1.0), ("i", 0.4)])
    anim = animate_phones(phones, pack, 50, end + 0.5)
    jaw_a = _during(anim, "jaw_open", 0.35, 0.45)
    assert np.allclose(jaw_a, pack.phone("ɑ").target["jaw_open"], atol=0.03)
    spread_i = _during(anim, "lip_spread", 1.75, 1.85)
    assert np.allclose(spread_i, pack.phone("i").target["lip_spread"], atol=0.03)
    rest = np.array([REST_TARGET[p] for p in ARTICULATION_PARAMS])
    times = anim.articulation.times
    pause = (times > 0.9) & (times < 1.3)
    assert np.allclose(anim.articulation.values[pause], rest, atol=0.02)
    assert np.all(anim.visemes.channel("sil")[pause] > 0.95)
    # before speech and after it the mouth rests too
    assert np.allclose(anim.articulation.values[0], rest, atol=0.01)
    assert np.allclose(anim.articulation.values[-1], rest, atol=0.02)
    # in the vowel's core its viseme class dominates
    core = (times > 0.35) & (times < 0.45)
    assert np.all(anim.visemes.values[core].argmax(axis=1) == classes("oculus").index("aa"))


def test_short_pause_barely_moves_the_mouth(pack):
    phones, end = _tier([("ɑ", 0.15), (None, 0.03), ("ɑ", 0.15)])
    anim = animate_phones(phones, pack, 60, end + 0.2)
    assert _during(anim, "jaw_open", 0.35, 0.38).min() > 0.5


def test_frame_rate_independent_except_closure_bump(pack):
    phones, end = _tier([("s", 0.09), ("ɪ", 0.07), ("k", 0.06), ("s", 0.1), ("oʊ", 0.2)])
    a30 = animate_phones(phones, pack, 30, end + 0.2).articulation.values
    a60 = animate_phones(phones, pack, 60, end + 0.2).articulation.values
    assert np.allclose(a60[::2][: len(a30)], a30, atol=1e-5)


def test_smooth_curves(pack):
    phones, end = _tier([("h", 0.06), ("ɛ", 0.09), ("l", 0.06), ("oʊ", 0.16), ("w", 0.06), ("ɝ", 0.12),
                         ("l", 0.05), ("d", 0.05)])
    anim = animate_phones(phones, pack, 60, end + 0.3)
    steps = np.abs(np.diff(anim.articulation.values, axis=0))
    assert steps.max() < 0.3  # no jumps between neighbouring 60 fps frames
    # second differences stay small: no frame-to-frame zig-zag
    assert np.abs(np.diff(anim.articulation.values, 2, axis=0)).max() < 0.2


def test_deterministic(pack):
    phones, end = _tier([("p", 0.05), ("ɑ", 0.1), ("m", 0.04), ("u", 0.12)])
    a = animate_phones(phones, pack, 25, end + 0.1, viseme_set="rhubarb")
    b = animate_phones(phones, pack, 25, end + 0.1, viseme_set="rhubarb")
    assert np.array_equal(a.articulation.values, b.articulation.values)
    assert np.array_equal(a.visemes.values, b.visemes.values)
    assert np.array_equal(articulation_values(phones, pack, 25, end + 0.1), a.articulation.values)


_SYMBOLS = ["p", "b", "m", "ɑ", "i", "u", "oʊ", "s", "t", "k", "f", "l", "ɹ", "ʃ", "ə", "w", "θ"]


def _weak_bilabials() -> CoarticulationParams:
    """Bilabial closure dominance no stronger than a vowel's: contact then depends on the guarantee."""
    from visemes.mouth.coarticulation import _default_magnitude

    magnitude = _default_magnitude()
    magnitude["bilabial"]["close"] = 0.5
    return CoarticulationParams(magnitude=magnitude)


@pytest.mark.parametrize("weak", [False, True], ids=["default", "weak-bilabials"])
@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(_SYMBOLS), st.floats(0.005, 0.2), st.booleans()),
        min_size=1, max_size=12,
    ),
    st.sampled_from(SUPPORTED_FPS),
    st.sampled_from(VISEME_SETS),
)
def test_bilabials_always_close(pack, weak, phones_spec, fps, set_name):
    """Every bilabial reaches lip contact (>= 0.95) at the frame nearest its centre, even 5 ms ones at
    24 fps and even when its dominance is weak; values stay in [0, 1]; viseme weights sum to 1."""
    spec = []
    for sym, dur, pause_after in phones_spec:
        spec.append((sym, dur))
        if pause_after:
            spec.append((None, dur))
    phones, end = _tier(spec, start=0.05)
    params = _weak_bilabials() if weak else None
    anim = animate_phones(phones, pack, fps, end + 0.05, viseme_set=set_name, params=params)
    lip_close = anim.articulation.channel("lip_close")
    for iv in phones:
        if iv.label in ("p", "b", "m"):
            frame = min(int(round(iv.midpoint * fps)), anim.n_frames - 1)
            assert lip_close[frame] >= 0.95, (iv, fps)
    for curves in (anim.articulation, anim.blendshapes, anim.visemes):
        assert np.all(curves.values >= 0) and np.all(curves.values <= 1)
    assert np.allclose(anim.visemes.values.sum(axis=1), 1.0, atol=1e-5)


def test_closure_follows_the_packs_target_not_the_pp_class():
    """Spanish intervocalic β is PP with lips short of contact (target 0.6): no forced closure; b closes."""
    from visemes import lang_packs

    es = lang_packs.load("es")
    assert es.phone("β").viseme == "PP" and es.phone("β").target["lip_close"] < 0.9
    for symbol, closes in (("β", False), ("b", True)):
        phones, end = _tier([("a", 0.12), (symbol, 0.03), ("a", 0.12)])
        lip_close = animate_phones(phones, es, 24, end + 0.1).articulation.channel("lip_close")
        frame = int(round((0.2 + 0.12 + 0.015) * 24))
        assert (lip_close[frame] >= 0.95) == closes, (symbol, lip_close[frame])


def test_closure_guarantee_is_smooth_and_local(pack):
    # with default dominance a long /m/ closes on its own: the guarantee changes nothing
    phones, end = _tier([("ɑ", 0.2), ("m", 0.12), ("ɑ", 0.2)])
    values = articulation_values(phones, pack, 60, end + 0.1)
    assert np.array_equal(values, articulation_values(phones, pack, 60, end + 0.1, CoarticulationParams(closure_min=0.01)))
    # with weak closure dominance a short /p/ at 24 fps falls short, and the bump lifts it smoothly
    phones, end = _tier([("ɑ", 0.2), ("p", 0.015), ("ɑ", 0.2)])
    weak = _weak_bilabials()
    lc = ARTICULATION_PARAMS.index("lip_close")
    natural = articulation_values(phones, pack, 24, end + 0.1, CoarticulationParams(
        magnitude=weak.magnitude, closure_min=0.01))[:, lc]
    forced = articulation_values(phones, pack, 24, end + 0.1, weak)[:, lc]
    frame = int(round((0.2 + 0.2075) * 24))
    assert natural[frame] < 0.8 and forced[frame] >= 0.95
    assert np.all(forced >= natural - 1e-6)
    changed = np.flatnonzero(forced - natural > 1e-6)
    assert changed.min() >= frame - 2 and changed.max() <= frame + 2  # local
    assert forced[frame - 1] > natural[frame - 1] and forced[frame + 1] > natural[frame + 1]  # not a spike


def test_errors(pack):
    phones, end = _tier([("ɑ", 0.2)])
    with pytest.raises(InputError, match="after the duration"):
        animate_phones(phones, pack, 30, 0.3)
    with pytest.raises(InputError, match="Frame rate"):
        animate_phones(phones, pack, 0, 1.0)
    with pytest.raises(InputError, match="viseme set"):
        animate_phones(phones, pack, 30, 1.0, viseme_set="nope")
    with pytest.raises(InputError, match="duration"):
        animate_phones(phones, pack, 30, 0.0)
    with pytest.raises(InputError, match="unknown groups"):
        CoarticulationParams(rates={"vowel": {"eyebrows": (1.0, 1.0)}})


def test_empty_phones_is_rest(pack):
    anim = animate_phones(Tier("phones", ()), pack, 30, 1.0, viseme_set="azure")
    assert np.allclose(anim.articulation.channel("jaw_open"), REST_TARGET["jaw_open"])
    assert np.allclose(anim.visemes.channel("0"), 1.0)
