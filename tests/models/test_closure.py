"""The neural model's closures close: lip contact at every bilabial, the set's bilabial viseme >= 0.95 and
ARKit mouthClose >= jawOpen - 0.02 there, whatever the network predicts (an untrained one here, whose
outputs know nothing of closures), streaming equal to offline."""

from __future__ import annotations

import numpy as np
import pytest

from visemes.core.timeline import Alignment, Interval, Tier
from visemes.core.vocabulary import VISEME_SETS
from visemes.mouth.arkit import CONTACT
from visemes.mouth.closure import bilabial_spans
from visemes.mouth.coarticulation import CoarticulationParams
from visemes.mouth.visemesets import from_oculus


@pytest.fixture(scope="module")
def raw_model(vocab):
    from flax import nnx

    from visemes.models.api import VisemeModel
    from visemes.models.config import ModelConfig
    from visemes.models.network import VisemeTransformer

    cfg = ModelConfig.tiny(n_phones=len(vocab.phones))
    return VisemeModel.from_module(VisemeTransformer(cfg, rngs=nnx.Rngs(3)), vocab)


@pytest.fixture(scope="module")
def en():
    from visemes import lang_packs

    return lang_packs.load("en-US")


def _alignment(spec, lang="en-us", start=0.1, tail=0.3):
    phones, t = [], start
    for sym, dur in spec:
        phones.append(Interval(t, t + dur, sym))
        t += dur
    return Alignment((Tier("phones", tuple(phones)),), t + tail, {"lang": lang})


# a 20 ms /p/ (shorter than a 24 fps frame), /b/ and /m/ between open and rounded vowels
SPEC = [("ə", 0.08), ("p", 0.02), ("ɑː", 0.15), ("b", 0.07), ("uː", 0.12), ("m", 0.09), ("i", 0.1),
        ("p", 0.06), ("ɔː", 0.2), ("k", 0.12), ("b", 0.06), ("ɑː", 0.15)]  # "k b": the closure starts early


@pytest.mark.parametrize("fps", [24.0, 30.0, 60.0])
def test_model_closes_every_bilabial_in_every_set(raw_model, en, fps):
    al = _alignment(SPEC)
    spans = bilabial_spans(al.phones, en, CoarticulationParams())
    assert len(spans) == 5
    for set_name in VISEME_SETS:
        anim = raw_model.predict(al, fps=fps, pack=en, viseme_set=set_name)
        lip = anim.articulation.channel("lip_close")
        times = anim.articulation.times
        for lo, hi in spans:  # contact at the frame nearest each closure's centre
            assert lip[int(np.argmin(np.abs(times - 0.5 * (lo + hi))))] >= CONTACT
        contact = lip >= CONTACT
        assert np.all(anim.visemes.channel(from_oculus("PP", set_name))[contact] >= 0.95)
        close, jaw = anim.blendshapes.channel("mouthClose"), anim.blendshapes.channel("jawOpen")
        assert np.all(close[contact] >= jaw[contact] - 0.02)
        assert np.all(anim.articulation.channel("lip_protrude")[contact] >= CoarticulationParams().closure_protrusion - 1e-6)
        w = anim.visemes.values
        assert np.all(w >= 0) and np.allclose(w.sum(axis=1), 1.0, atol=1e-5)


def test_frames_away_from_bilabials_are_the_networks(raw_model, en):
    """Far from every bilabial (and where the network itself does not close), the curves are the raw
    network outputs: the closure rule adds, it does not reshape."""
    al = _alignment(SPEC)
    fps = 30.0
    anim = raw_model.predict(al, fps=fps, pack=en)
    raw = raw_model.predict_inputs(raw_model.encode(al, fps, lang="en-us"))
    spans = bilabial_spans(al.phones, en, CoarticulationParams())
    times = anim.articulation.times
    far = np.all((times[:, None] < spans[None, :, 0] - 0.1) | (times[:, None] > spans[None, :, 1] + 0.1), axis=1)
    lip = np.asarray(raw["articulation"])[:, anim.articulation.channels.index("lip_close")]
    far &= lip < 0.8  # where the network leaves the lips apart, nothing is changed
    assert far.sum() > 5
    np.testing.assert_allclose(anim.articulation.values[far], np.asarray(raw["articulation"])[far], atol=1e-6)
    np.testing.assert_allclose(anim.blendshapes.values[far], np.clip(np.asarray(raw["blendshapes"])[far], 0, 1), atol=1e-6)


def test_streaming_closures_equal_offline(raw_model, vocab):
    from visemes.models.streaming import predict_streaming

    al = _alignment(SPEC * 3)
    offline = raw_model.predict(al, fps=30.0)
    streamed = predict_streaming(raw_model, al, fps=30.0, chunk_s=1 / 30, chunk_frames=1)
    np.testing.assert_allclose(streamed.articulation.values, offline.articulation.values, atol=1e-4)
    np.testing.assert_allclose(streamed.visemes.values, offline.visemes.values, atol=1e-4)
    np.testing.assert_allclose(streamed.blendshapes.values, offline.blendshapes.values, atol=1e-4)
