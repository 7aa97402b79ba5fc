"""Viseme weights and blendshapes that keep the articulation's truth: closures close in every output."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET
from visemes.core.curves import SUPPORTED_FPS
from visemes.core.vocabulary import OCULUS_15, VISEME_SETS, classes
from visemes.formats.preview import mouth_geometry
from visemes.mouth.arkit import CONTACT
from visemes.mouth.coarticulation import animate_phones
from visemes.mouth.viseme_weights import (
    closure_share,
    fit_weights,
    keep_closure,
    lip_aperture,
    oculus_to_articulation,
    project_simplex,
    viseme_shapes,
)
from visemes.mouth.visemesets import from_oculus
from _phone_tiers import phone_tier as _tier


@pytest.fixture(scope="module")
def pack():
    from visemes import lang_packs

    return lang_packs.load("en-US")




def _closed_everywhere(anim, set_name):
    """At every frame with lip contact: the set's bilabial class >= 0.95 and ARKit shut."""
    lip_close = anim.articulation.channel("lip_close")
    bilabial = anim.visemes.channel(from_oculus("PP", set_name))
    close, jaw = anim.blendshapes.channel("mouthClose"), anim.blendshapes.channel("jawOpen")
    contact = lip_close >= CONTACT
    assert np.all(bilabial[contact] >= 0.95)
    assert np.all(close[contact] >= jaw[contact] - 0.02)
    return contact


_SYMBOLS = ["p", "b", "m", "ɑː", "i", "u", "oʊ", "ɔː", "s", "t", "k", "f", "l", "ɹ", "ʃ", "ə", "w", "θ"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_SYMBOLS), st.floats(0.005, 0.25), st.booleans()), min_size=1, max_size=12),
    st.sampled_from(SUPPORTED_FPS),
    st.sampled_from(VISEME_SETS),
)
def test_closures_close_in_every_output(pack, phones_spec, fps, set_name):
    """Random phone sequences, every frame rate and viseme set: wherever the curves have lip contact
    (which every bilabial's centre frame has), the bilabial viseme has >= 0.95 of the frame and ARKit's
    mouthClose cancels jawOpen; the weights stay a distribution."""
    spec = []
    for sym, dur, pause in phones_spec:
        spec.append((sym, dur))
        if pause:
            spec.append((None, dur))
    phones, end = _tier(spec, start=0.05)
    anim = animate_phones(phones, pack, fps, end + 0.05, viseme_set=set_name)
    contact = _closed_everywhere(anim, set_name)
    for iv in phones:
        if iv.label in ("p", "b", "m"):
            assert contact[min(int(round(iv.midpoint * fps)), anim.n_frames - 1)]
    w = anim.visemes.values
    assert np.all(w >= 0) and np.allclose(w.sum(axis=1), 1.0, atol=1e-5)


def test_golden_a_bob(pack):
    """'a Bob' (ə b ɑː b), hand-timed, 60 fps: both closures are PP frames with the rig shut; the open
    vowel's core is aa; the route through the viseme shapes follows the jaw and the aperture."""
    phones, end = _tier([("ə", 0.08), ("b", 0.07), ("ɑː", 0.2), ("b", 0.08)], start=0.1)
    anim = animate_phones(phones, pack, 60, end + 0.2)
    _closed_everywhere(anim, "oculus")
    for iv in phones:
        if iv.label == "b":
            f = int(round(iv.midpoint * 60))
            assert anim.visemes.channel("PP")[f] >= 0.95
            assert anim.blendshapes.channel("mouthClose")[f] == pytest.approx(anim.blendshapes.channel("jawOpen")[f])
    vowel = phones[2]
    core = np.arange(int(np.ceil((vowel.midpoint - 0.04) * 60)), int((vowel.midpoint + 0.04) * 60) + 1)
    assert np.all(anim.visemes.values[core].argmax(axis=1) == OCULUS_15.index("aa"))
    shown = oculus_to_articulation(anim.visemes.values)
    values = anim.articulation.values
    jaw = ARTICULATION_PARAMS.index("jaw_open")
    assert np.corrcoef(shown[:, jaw], values[:, jaw])[0, 1] > 0.9
    assert np.corrcoef(lip_aperture(shown), lip_aperture(values))[0, 1] > 0.95


def test_project_simplex_against_a_plain_bisection():
    rng = np.random.default_rng(0)
    v = rng.normal(0, 1, (200, 15)) * rng.choice([0.1, 1, 5], (200, 1))
    w = project_simplex(v)

    def reference(x):  # sum(max(x - theta, 0)) = 1, solved for theta by bisection
        lo, hi = x.min() - 1.0, x.max()
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if np.maximum(x - mid, 0).sum() > 1 else (lo, mid)
        return np.maximum(x - 0.5 * (lo + hi), 0)

    assert np.allclose(w, np.array([reference(x) for x in v]), atol=1e-9)


def test_fit_reproduces_the_articulation_whatever_the_prior():
    """A uniform prior knows nothing: the fitted mix still shows each shape's jaw, lip aperture and lip
    shape (the shapes are not all independent, so which classes carry it may differ)."""
    shapes = viseme_shapes()
    k = len(OCULUS_15)
    w = fit_weights(shapes, np.full((k, k), 1.0 / k))
    assert np.allclose(w.sum(axis=1), 1.0) and np.all(w >= 0)
    shown = oculus_to_articulation(w)
    for name in ("jaw_open", "lip_spread", "lip_protrude", "lip_close"):
        i = ARTICULATION_PARAMS.index(name)
        assert np.abs(shown[:, i] - shapes[:, i]).max() < 0.05, name
    assert np.abs(lip_aperture(shown) - lip_aperture(shapes)).max() < 3.0  # pixels of 48


def test_fit_keeps_the_phone_where_the_prior_leans_on_it():
    shapes = viseme_shapes()
    k = len(OCULUS_15)
    prior = np.full((k, k), 0.5 / (k - 1))
    np.fill_diagonal(prior, 0.5)
    w = fit_weights(shapes, prior)
    assert np.all(w.argmax(axis=1) == np.arange(k))
    assert np.all(np.diag(w) > 0.6)  # DD kk nn RR lie near mixes of the others: they share


def test_keep_closure_floor_and_proportions():
    names = classes("rhubarb")
    w = np.array([[0.5, 0.25, 0.25] + [0.0] * (len(names) - 3)] * 3)
    lip_close = np.array([0.0, 0.5 * (0.8 + CONTACT), 1.0])
    out = keep_closure(w, lip_close, names, "A")
    k = names.index("A")
    assert np.allclose(out.sum(axis=1), 1.0)
    assert out[0] == pytest.approx(w[0])  # open lips: unchanged
    assert out[1, k] == pytest.approx(max(w[1, k], closure_share(lip_close[1:2])[0]))
    assert out[2, k] == pytest.approx(1.0)
    others = [i for i in range(len(names)) if i != k and w[1, i] > 0]
    ratios = out[1, others] / w[1, others]
    assert np.allclose(ratios, ratios[0])  # the other classes keep their proportions


def test_lip_aperture_is_the_previews():
    rng = np.random.default_rng(1)
    rows = rng.uniform(0, 1, (40, len(ARTICULATION_PARAMS)))
    rows[::4, ARTICULATION_PARAMS.index("lip_close")] = 1.0
    rows[1::4, ARTICULATION_PARAMS.index("lower_lip_tuck")] = 0.0
    theirs = [mouth_geometry(r, 320, 240).aperture_height for r in rows]
    assert np.allclose(lip_aperture(rows), theirs, atol=1e-6)


def test_viseme_shapes_table():
    shapes = viseme_shapes()
    assert shapes.shape == (len(OCULUS_15), len(ARTICULATION_PARAMS))
    assert shapes[OCULUS_15.index("sil")] == pytest.approx([REST_TARGET[p] for p in ARTICULATION_PARAMS])
    assert shapes[OCULUS_15.index("PP"), ARTICULATION_PARAMS.index("lip_close")] == 1.0
    assert lip_aperture(shapes)[OCULUS_15.index("PP")] == 0.0


def test_closure_pushes_the_lips_forward_in_the_curves_and_through_the_weights(pack):
    """'i b i' (spread vowels on both sides): at contact the lips are pressed forward (lip_protrude at
    least closure_protrusion), the PP shape has that protrusion, so the Oculus route shows it too; with
    closure_protrusion=0 the curves keep the spread vowels' zero protrusion."""
    from visemes.mouth.coarticulation import params_for
    from visemes.mouth.viseme_weights import CLOSURE_PROTRUSION

    phones, end = _tier([("i", 0.15), ("b", 0.08), ("i", 0.15)], start=0.1)
    prot = ARTICULATION_PARAMS.index("lip_protrude")
    assert viseme_shapes()[OCULUS_15.index("PP"), prot] == CLOSURE_PROTRUSION
    anim = animate_phones(phones, pack, 60, end + 0.1)
    contact = anim.articulation.channel("lip_close") >= CONTACT
    assert contact.any()
    assert np.all(anim.articulation.channel("lip_protrude")[contact] >= CLOSURE_PROTRUSION - 1e-6)
    shown = oculus_to_articulation(anim.visemes.values)
    assert np.all(shown[contact, prot] >= 0.95 * CLOSURE_PROTRUSION - 1e-6)
    off = animate_phones(phones, pack, 60, end + 0.1, params=params_for(pack, closure_protrusion=0.0))
    assert off.articulation.channel("lip_protrude")[contact].max() < 0.05


def test_pp_shape_jaw_is_the_rules_jaw_at_contact(pack):
    """The PP shape's jaw (CLOSURE_JAW) is the jaw the rules give at lip contact on average (random
    en-us phones, not any recording): if the rules change, the shape must follow."""
    import sys
    from pathlib import Path

    from visemes.mouth.viseme_weights import CLOSURE_JAW

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from coarticulation_speed import random_phones

    phones, duration = random_phones(2.0, seed=0)
    values = animate_phones(phones, pack, 60, duration).articulation.values
    contact = values[:, ARTICULATION_PARAMS.index("lip_close")] >= CONTACT
    assert contact.sum() > 500
    mean_jaw = float(values[contact, ARTICULATION_PARAMS.index("jaw_open")].mean())
    assert abs(mean_jaw - CLOSURE_JAW) < 0.02
    assert viseme_shapes()[OCULUS_15.index("PP"), ARTICULATION_PARAMS.index("jaw_open")] == CLOSURE_JAW
