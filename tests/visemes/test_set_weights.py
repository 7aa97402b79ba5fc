"""visemes.mouth.set_weights: Oculus weights -> any viseme set, the one rule of both curve sources."""

import numpy as np
import pytest

from visemes import lang_packs
from visemes.core.curves import FrameCurves
from visemes.core.errors import InputError
from visemes.core.timeline import Interval, Tier
from visemes.core.vocabulary import OCULUS_15, SILENCE, VISEME_SETS, classes
from visemes.mouth.set_weights import weights_in_set
from visemes.mouth.visemesets import from_oculus, phone_to_viseme

PACK = lang_packs.load("en-US")


def _reference(values, fps, phones, pack, set_name):
    """Frame by frame, class by class: the weight of Oculus class c goes to the set class of the phone of
    class c whose interval is closest to the frame time (earliest on a tie)."""
    target = classes(set_name)
    out = np.zeros((len(values), len(target)))
    for t in range(len(values)):
        time = t / fps
        for j, c in enumerate(OCULUS_15):
            if c == "sil":
                out[t, target.index(SILENCE[set_name])] += values[t, j]
                continue
            best = None
            for iv in phones:
                spec = pack.phone(iv.label)
                if spec.viseme != c:
                    continue
                d = max(iv.start - time, 0.0, time - iv.end)
                if best is None or d < best[0]:
                    best = (d, phone_to_viseme(iv.label, spec, set_name))
            label = best[1] if best else from_oculus(c, set_name)
            out[t, target.index(label)] += values[t, j]
    return out


def _random_case(seed, n_frames=90, fps=30.0):
    rng = np.random.default_rng(seed)
    symbols = [s for s in ("p", "b", "m", "f", "a", "aɪ", "eɪ", "oʊ", "u", "i", "ɝ", "l", "w", "s", "t", "k", "θ", "ʃ")]
    t, intervals = 0.05, []
    while t < n_frames / fps - 0.1:
        d = float(rng.uniform(0.04, 0.2))
        intervals.append(Interval(t, t + d, str(rng.choice(symbols))))
        t += d + (float(rng.uniform(0.05, 0.2)) if rng.random() < 0.2 else 0.0)
    values = rng.dirichlet(np.full(len(OCULUS_15), 0.3), size=n_frames)
    return FrameCurves(fps, OCULUS_15, values.astype(np.float32)), Tier("phones", tuple(intervals))


@pytest.mark.parametrize("set_name", [s for s in VISEME_SETS if s != "oculus"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_a_plain_reference_implementation(set_name, seed):
    oculus, phones = _random_case(seed)
    got = weights_in_set(oculus, phones, PACK, set_name)
    assert got.channels == classes(set_name) and got.fps == oculus.fps and got.n_frames == oculus.n_frames
    np.testing.assert_allclose(got.values, _reference(oculus.values, oculus.fps, phones, PACK, set_name), atol=1e-6)
    np.testing.assert_allclose(got.values.sum(axis=1), 1.0, atol=1e-5)


def test_channel_order_does_not_matter_and_oculus_is_unchanged():
    oculus, phones = _random_case(5)
    order = list(reversed(OCULUS_15))
    shuffled = FrameCurves(oculus.fps, tuple(order), oculus.select(order).values)
    np.testing.assert_allclose(weights_in_set(shuffled, phones, PACK, "rhubarb").values,
                               weights_in_set(oculus, phones, PACK, "rhubarb").values, atol=1e-6)
    assert weights_in_set(oculus, phones, PACK, "oculus") is oculus


def test_phone_level_classes_survive_where_a_class_table_would_lose_them():
    # Azure has its own diphthong classes; the class-level table sends every 'aa' to one class.
    phones = Tier("phones", (Interval(0.0, 0.3, "aɪ"), Interval(0.4, 0.7, "a")))
    assert PACK.phone("aɪ").viseme == PACK.phone("a").viseme == "aa"
    values = np.zeros((21, len(OCULUS_15)), np.float32)
    values[:, OCULUS_15.index("aa")] = 1.0
    got = weights_in_set(FrameCurves(30.0, OCULUS_15, values), phones, PACK, "azure")
    diphthong = phone_to_viseme("aɪ", PACK.phone("aɪ"), "azure")
    plain = phone_to_viseme("a", PACK.phone("a"), "azure")
    assert diphthong != plain
    assert got.channel(diphthong)[3] == pytest.approx(1.0) and got.channel(plain)[16] == pytest.approx(1.0)


def test_weights_must_be_over_the_oculus_classes():
    with pytest.raises(InputError, match="Oculus 15"):
        weights_in_set(FrameCurves(30.0, ("A", "B"), np.ones((3, 2), np.float32) / 2), Tier("phones", ()), PACK, "azure")
