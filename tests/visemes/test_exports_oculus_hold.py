"""Oculus weights with a minimum viseme hold (visemes/formats/oculus.py hold_visemes)."""

import numpy as np

from visemes.core.curves import FrameCurves
from visemes.core.timeline import Interval, Tier
from visemes.core.vocabulary import OCULUS_15
from visemes.formats.oculus import hold_visemes


def _curves(n=10, fps=10.0):
    v = np.zeros((n, len(OCULUS_15)))
    v[:, OCULUS_15.index("aa")] = 1.0  # "aa" everywhere
    return FrameCurves(fps, OCULUS_15, v)


def test_viseme_between_two_frames_shows_in_the_nearest_frame():
    # PP from 0.32 to 0.36 s: no frame time (0.3, 0.4) falls inside; the nearest to its middle is 0.3
    out = hold_visemes(_curves(), Tier("visemes", (Interval(0.32, 0.36, "PP"),)), 0.0)
    pp, aa = OCULUS_15.index("PP"), OCULUS_15.index("aa")
    assert out.values[3, pp] == 0.5 and out.values[3, aa] == 0.5
    np.testing.assert_allclose(np.delete(out.values, 3, axis=0), np.delete(_curves().values, 3, axis=0))
    np.testing.assert_allclose(out.values.sum(1), 1.0, rtol=1e-6)


def test_min_hold_covers_frames_from_start_to_start_plus_hold():
    # PP at 0.32 s held 0.2 s -> window [0.32, 0.52): frames 0.4 and 0.5
    out = hold_visemes(_curves(), Tier("visemes", (Interval(0.32, 0.36, "PP"), Interval(0.36, 0.9, "sil"))), 0.2)
    pp = OCULUS_15.index("PP")
    assert list(np.nonzero(out.values[:, pp])[0]) == [4, 5]
    np.testing.assert_allclose(out.values[[4, 5], pp], 0.5)


def test_stronger_weights_are_kept():
    v = _curves().values.copy()
    pp, aa = OCULUS_15.index("PP"), OCULUS_15.index("aa")
    v[2, pp], v[2, aa] = 0.8, 0.2
    out = hold_visemes(FrameCurves(10.0, OCULUS_15, v), Tier("visemes", (Interval(0.2, 0.4, "PP"),)), 0.0)
    np.testing.assert_allclose(out.values[2, [pp, aa]], [0.8, 0.2], rtol=1e-6)  # already above: unchanged
    np.testing.assert_allclose(out.values[3, [pp, aa]], [0.8, 0.2], rtol=1e-6)  # raised to its peak (0.8)
