"""Azure Speech-style exports: viseme events (ticks) and 60-fps blend-shape frames."""

import json

import numpy as np
import pytest

from _export_samples import sample_alignment
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import ExportError
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.formats import FORMATS, ExportParts, expand_formats, write_one
from visemes.formats.azure import AZURE_BLENDSHAPES, blendshape_frames, viseme_events
from visemes.mouth.arkit import ARKIT_52


def azure_alignment() -> Alignment:
    tier = Tier("visemes", (Interval(0.10, 0.25, "21"), Interval(0.25, 0.40, "2"), Interval(0.40, 0.45, "2"),
                            Interval(0.60, 0.7000001, "19")))
    return Alignment((tier,), 1.0, {"viseme_set": "azure"})


def test_viseme_events_in_ticks_with_pauses_as_zero(tmp_path):
    # by hand: silence from 0, 21 at 0.10 s, 2 at 0.25 s (0.25-0.45 joined), pause at 0.45, 19 at 0.60,
    # silence after it until the end; 1 s = 10,000,000 ticks
    assert viseme_events(ExportParts(alignment=azure_alignment())) == [
        {"AudioOffset": 0, "VisemeId": 0}, {"AudioOffset": 1_000_000, "VisemeId": 21},
        {"AudioOffset": 2_500_000, "VisemeId": 2}, {"AudioOffset": 4_500_000, "VisemeId": 0},
        {"AudioOffset": 6_000_000, "VisemeId": 19}, {"AudioOffset": 7_000_001, "VisemeId": 0}]
    path = write_one(azure_alignment(), tmp_path / "x.azure-visemes.json")
    assert json.loads(path.read_text())[1] == {"AudioOffset": 1_000_000, "VisemeId": 21}


def test_viseme_events_from_phones_via_the_pack_and_bad_ids():
    events = viseme_events(ExportParts(alignment=sample_alignment("oculus")))  # phones -> azure set (en pack)
    offsets = [e["AudioOffset"] for e in events]
    assert offsets == sorted(offsets) and events[0] == {"AudioOffset": 0, "VisemeId": 0}
    assert all(0 <= e["VisemeId"] <= 21 for e in events) and events[-1]["VisemeId"] == 0
    assert {"AudioOffset": 5_000_000, "VisemeId": 0} in events  # the pause 0.50-0.62 s between the words
    bad = Alignment((Tier("visemes", (Interval(0.1, 0.2, "22"),)),), 1.0, {"viseme_set": "azure"})
    with pytest.raises(ExportError, match="0-21"):
        viseme_events(ExportParts(alignment=bad))


def test_blendshape_frames_at_60_fps_in_the_documented_order(tmp_path):
    assert AZURE_BLENDSHAPES[:52] == ARKIT_52 and AZURE_BLENDSHAPES[52:] == ("headRoll", "leftEyeRoll", "rightEyeRoll")
    assert len(AZURE_BLENDSHAPES) == 55
    # jawOpen ramps 0 -> 1 over 1 s at 30 fps; at 60 fps frame k is k/60 (linear: the same ramp)
    ramp = np.linspace(0, 1, 31)[:, None]
    shapes = FrameCurves(30.0, ("JawOpen", "mouthClose"), np.hstack([ramp, 1 - ramp]))
    frames = blendshape_frames(shapes)
    assert frames.shape == (61, 55)
    np.testing.assert_allclose(frames[:, AZURE_BLENDSHAPES.index("jawOpen")], np.arange(61) / 60, atol=1e-6)
    np.testing.assert_allclose(frames[:, AZURE_BLENDSHAPES.index("mouthClose")], 1 - np.arange(61) / 60, atol=1e-6)
    assert np.count_nonzero(frames[:, [i for i, n in enumerate(AZURE_BLENDSHAPES) if n not in ("jawOpen", "mouthClose")]]) == 0
    anim = MouthAnimation(shapes, shapes, shapes)
    path = write_one(ExportParts(animation=anim), tmp_path / "x.azure-blend.json")
    data = json.loads(path.read_text())
    assert data["FrameIndex"] == 0 and len(data["BlendShapes"]) == 61 and len(data["BlendShapes"][0]) == 55
    assert data["BlendShapes"][30][AZURE_BLENDSHAPES.index("jawOpen")] == 0.5
    with pytest.raises(ExportError, match="not ARKit"):
        blendshape_frames(FrameCurves(30.0, ("smirk",), np.zeros((3, 1))))


def test_registered_with_an_alias():
    assert {"azure-visemes", "azure-blend"} <= set(FORMATS)
    assert expand_formats("azure") == ["azure-visemes", "azure-blend"]
