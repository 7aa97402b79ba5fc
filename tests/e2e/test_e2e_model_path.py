"""One viseme-set rule for both curve sources (coarticulation rules and the neural model)."""

from __future__ import annotations

import numpy as np
import pytest

from visemes.core.vocabulary import classes
from visemes.mouth.set_weights import weights_in_set
from visemes.pipeline.animator import animate, timing_only
from visemes.speech.synthesis import speak

TEXT = "My mom bought a big map, Bob."  # many bilabials between open vowels


@pytest.fixture(scope="module")
def speech():
    return speak(TEXT, "en-US")


@pytest.fixture(scope="module")
def result(speech):
    # every default: aligned with the built-in aligner, curves from the shipped model, Oculus, 30 fps
    return animate(speech.audio, speech.sample_rate, text=TEXT, lang="en-US")


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
