"""visemes.mouth.closure: the closure spans and floor against hand values and a plain loop."""

import numpy as np
import pytest

from visemes.mouth.arkit import CONTACT
from visemes.mouth.closure import TAPER, bilabial_spans, closure_floor
from visemes.mouth.coarticulation import CoarticulationParams
from _phone_tiers import phone_tier as _tier


@pytest.fixture(scope="module")
def en():
    from visemes import lang_packs

    return lang_packs.load("en-US")


def test_spans_follow_the_rules_timing(en):
    """/b/ at 0.2-0.3 s: contact from 20 ms before to 55 % of it; a 10 ms /p/ is held 30 ms; vowels and
    Spanish-like approaches (lip_close < 0.9) are not closures."""
    phones, _ = _tier([("ɑː", 0.1), ("b", 0.1), ("i", 0.1), ("p", 0.01), ("uː", 0.1)], start=0.1)
    spans = bilabial_spans(phones, en, CoarticulationParams())
    assert spans.shape == (2, 2)
    lo, hi = spans[0]
    assert lo == pytest.approx(0.2 - 0.02) and hi == pytest.approx(0.2 + 0.055)
    lo, hi = spans[1]  # 10 ms /p/ at 0.4: raw span 0.38-0.4055 (25.5 ms), grown to 30 ms about its centre
    assert hi - lo == pytest.approx(0.03) and 0.5 * (lo + hi) == pytest.approx(0.5 * (0.38 + 0.4055))


def test_floor_against_a_plain_loop():
    spans = np.array([[0.2, 0.26], [0.5, 0.51]])
    fps = 24.0
    times = np.arange(0, 0.8, 1 / 240)
    ours = closure_floor(times, spans, fps)
    for t, v in zip(times, ours):
        best = 0.0
        for lo, hi in spans:
            d = 0.0 if abs(t - 0.5 * (lo + hi)) <= 0.5 / fps else max(0.0, lo - t, t - hi)
            best = max(best, CONTACT * (1 - min(1.0, d / TAPER) ** 2) ** 2)
        assert v == pytest.approx(best, abs=1e-12)
    frames = np.arange(0, 0.8, 1 / fps)  # a 10 ms span between frame times still closes one frame
    assert (closure_floor(frames, spans[1:], fps) >= CONTACT).sum() == 1
    # a frame 30 ms (two tapers) outside a span is untouched: a short vowel between closures stays open
    assert closure_floor(np.array([0.2 - 0.03, 0.26 + 0.03]), spans[:1], 60.0) == pytest.approx([0.0, 0.0])


def test_a_bilabial_after_a_stop_closes_under_it(en):
    """'k b' and 't (60 ms silence) b': the lips meet by the stop's middle (gestural overlap), capped
    by max_lead; after a fricative ('s b') or a long pause they do not; the rules' curves agree."""
    from visemes.mouth.coarticulation import animate_phones

    phones, end = _tier([("ɑː", 0.1), ("k", 0.1), ("b", 0.06), ("ɑː", 0.1), ("t", 0.08), (None, 0.06), ("b", 0.06),
                         ("ɑː", 0.1), ("s", 0.1), ("b", 0.06), ("ɑː", 0.1), ("t", 0.08), (None, 0.3), ("b", 0.06),
                         ("ɑː", 0.1)], start=0.1)
    prm = CoarticulationParams()
    bil = [iv for iv in phones if iv.label == "b"]
    stops = [iv for iv in phones if iv.label in ("k", "t")]
    spans = bilabial_spans(phones, en, prm)
    assert spans[0, 0] == pytest.approx(stops[0].midpoint)
    assert spans[1, 0] == pytest.approx(stops[1].midpoint)  # through the 60 ms closure silence
    assert spans[2, 0] == pytest.approx(bil[2].start - prm.closure_lead)  # after /s/
    assert spans[3, 0] == pytest.approx(bil[3].start - prm.closure_lead)  # after a 0.3 s pause
    capped = bilabial_spans(phones, en, prm, max_lead=0.05)
    assert capped[0, 0] == pytest.approx(bil[0].start - 0.05)
    off = bilabial_spans(phones, en, CoarticulationParams(cluster_overlap=False))
    assert off[0, 0] == pytest.approx(bil[0].start - prm.closure_lead)
    fps = 100.0
    lip = animate_phones(phones, en, fps, end + 0.1).articulation.channel("lip_close")
    for (lo, hi) in spans:  # the rules' contact covers the same spans
        frames = np.arange(int(np.ceil(lo * fps)), int(np.floor(hi * fps)) + 1)
        assert np.all(lip[frames] >= CONTACT - 0.02), (lo, hi, lip[frames].min())
