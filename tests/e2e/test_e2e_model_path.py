"""The animate() path with the neural model (use_model=True; the default is the rules), end to end; and one
viseme-set rule for both curve sources."""

from __future__ import annotations

import numpy as np
import pytest

from visemes import models
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.curves import frame_count
from visemes.core.vocabulary import OCULUS_15, classes
from visemes.mouth.arkit import ARKIT_MOUTH
from visemes.mouth.set_weights import weights_in_set
from visemes.pipeline.animator import animate, timing_only
from visemes.speech.synthesis import speak

TEXT = "My mom bought a big map, Bob."  # many bilabials between open vowels
BILABIALS = {"p", "b", "m"}


@pytest.fixture(scope="module")
def speech():
    return speak(TEXT, "en-US")


@pytest.fixture(scope="module")
def result(speech):
    # every default but the curves: aligned with the built-in aligner, the shipped model, Oculus, 30 fps
    return animate(speech.audio, speech.sample_rate, text=TEXT, lang="en-US", use_model=True)


def test_model_path_uses_the_model_and_gives_well_formed_curves(result):
    anim = result.animation
    assert anim.source.startswith("model:") and result.summary()["curves"] == anim.source
    assert result.timing == "aligned" and result.fps == 30.0
    assert anim.n_frames == frame_count(result.duration, 30.0)
    assert anim.articulation.channels == ARTICULATION_PARAMS and anim.blendshapes.channels == ARKIT_MOUTH
    assert anim.visemes.channels == OCULUS_15
    for curves in (anim.articulation, anim.blendshapes):
        assert curves.values.shape == (anim.n_frames, len(curves.channels))
        assert np.isfinite(curves.values).all() and curves.values.min() >= 0.0 and curves.values.max() <= 1.0
    np.testing.assert_allclose(anim.visemes.values.sum(axis=1), 1.0, atol=1e-4)
    assert anim.articulation.values.std(axis=0).max() > 0.05  # the mouth moves


def test_the_model_closes_the_lips_on_bilabials_and_opens_them_on_open_vowels(result):
    close = result.animation.articulation.channel("lip_close")
    fps = result.fps
    bilabial_peaks, open_vowel_centres = [], []
    for iv in result.phones:
        lo, hi = int(np.floor(iv.start * fps)), int(np.ceil(iv.end * fps))
        if iv.label in BILABIALS:
            bilabial_peaks.append(float(close[lo : hi + 1].max()))
        elif iv.label in ("ɑː", "æ", "ɔː"):
            open_vowel_centres.append(float(close[int(round(iv.midpoint * fps))]))
    assert len(bilabial_peaks) >= 8 and len(open_vowel_centres) >= 3
    assert min(bilabial_peaks) >= 0.8, bilabial_peaks      # contact reached on every bilabial
    assert max(open_vowel_centres) <= 0.3, open_vowel_centres


def test_animate_gives_exactly_what_the_model_gives(result):
    direct = models.load().predict(result.alignment, fps=30.0, pack=result.pack, audio=result.audio,
                                   sample_rate=result.sample_rate)
    for name in ("articulation", "blendshapes", "visemes"):
        mine, theirs = getattr(result.animation, name), getattr(direct, name)
        assert mine.channels == theirs.channels
        np.testing.assert_array_equal(mine.values, theirs.values)
    assert direct.source == result.animation.source


@pytest.mark.parametrize("use_model", [False, True], ids=["coarticulation", "model"])
def test_one_rule_for_other_viseme_sets_on_both_curve_paths(speech, result, use_model):
    timings = timing_only(result.alignment)
    common = dict(alignment=timings, lang="en-US", use_model=use_model)
    oculus = animate(speech.audio, speech.sample_rate, viseme_set="oculus", **common)
    for set_name in ("rhubarb", "azure", "mpeg4"):
        other = animate(speech.audio, speech.sample_rate, viseme_set=set_name, **common)
        assert other.animation.visemes.channels == classes(set_name)
        assert other.summary()["curve_viseme_set"] == set_name  # the curves are in the set asked for
        expected = weights_in_set(oculus.animation.visemes, other.phones, other.pack, set_name)
        np.testing.assert_allclose(other.animation.visemes.values, expected.values, atol=1e-6)
        # the set changes the viseme labels and weights, never the mouth
        np.testing.assert_array_equal(other.animation.articulation.values, oculus.animation.articulation.values)
