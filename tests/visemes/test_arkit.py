"""ARKit blendshape names and the articulation -> ARKit mapping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from visemes.mouth.arkit import ARKIT_52, ARKIT_MOUTH, arkit_curves, articulation_to_arkit
from visemes.core.articulation import ARTICULATION_PARAMS, REST_TARGET
from visemes.core.curves import FrameCurves
from visemes.core.errors import InputError


def _pose(**values: float) -> dict[str, float]:
    return {name: float(values.get(name, 0.0)) for name in ARTICULATION_PARAMS}


def _arkit(pose: dict[str, float]) -> dict[str, float]:
    row = np.array([[pose[p] for p in ARTICULATION_PARAMS]], dtype=np.float32)
    return dict(zip(ARKIT_MOUTH, articulation_to_arkit(row)[0].tolist()))


def test_names():
    assert len(ARKIT_52) == 52 == len(set(ARKIT_52))
    assert ARKIT_52[0] == "eyeBlinkLeft" and ARKIT_52[-1] == "tongueOut"
    assert ARKIT_52[14:18] == ("jawForward", "jawLeft", "jawRight", "jawOpen")
    assert len(ARKIT_MOUTH) == 28 and set(ARKIT_MOUTH) <= set(ARKIT_52)
    assert [n for n in ARKIT_52 if n in ARKIT_MOUTH] == list(ARKIT_MOUTH)  # same order
    assert not any(n.startswith(("eye", "brow", "cheek", "nose")) for n in ARKIT_MOUTH)


def test_rest_pose():
    out = _arkit(dict(REST_TARGET))
    assert out["jawOpen"] == pytest.approx(0.05)
    assert all(v == 0 for k, v in out.items() if k != "jawOpen")


def test_bilabial_closure_over_an_open_jaw():
    # lips in contact while the jaw is at 0.3: mouthClose must cancel jawOpen exactly
    out = _arkit(_pose(jaw_open=0.3, lip_close=1.0))
    assert out["jawOpen"] == pytest.approx(0.3)
    assert out["mouthClose"] == pytest.approx(out["jawOpen"])
    assert out["mouthPressLeft"] == out["mouthPressRight"] == pytest.approx(0.35)
    assert out["mouthFunnel"] == 0.0
    # half-closed lips give about half of the cancelling amount (0.5 / CONTACT); open lips none
    assert _arkit(_pose(jaw_open=0.3, lip_close=0.5))["mouthClose"] == pytest.approx(0.3 * 0.5 / 0.95)
    # contact as the coarticulation model guarantees it (0.95) already shuts the rig exactly
    out = _arkit(_pose(jaw_open=0.45, lip_close=0.95))
    assert out["mouthClose"] == pytest.approx(out["jawOpen"])
    assert _arkit(_pose(jaw_open=0.6))["mouthClose"] == 0.0


GOLDEN = [
    # pose, expected non-zero outputs (all others 0)
    (_pose(jaw_open=0.15, lip_round=0.8, lip_protrude=0.6),  # u
     {"jawOpen": 0.15, "mouthFunnel": 0.64, "mouthPucker": 0.54}),
    (_pose(jaw_open=0.15, lip_spread=0.6, upper_lip_raise=0.1),  # i
     {"jawOpen": 0.15, "mouthStretchLeft": 0.36, "mouthStretchRight": 0.36, "mouthSmileLeft": 0.12,
      "mouthSmileRight": 0.12, "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1, "mouthLowerDownLeft": 0.04,
      "mouthLowerDownRight": 0.04}),
    (_pose(jaw_open=0.1, lower_lip_tuck=1.0, upper_lip_raise=0.3),  # f
     {"jawOpen": 0.1, "mouthRollLower": 0.75, "mouthUpperUpLeft": 0.5, "mouthUpperUpRight": 0.5,
      "mouthLowerDownLeft": 0.12, "mouthLowerDownRight": 0.12}),
    (_pose(jaw_open=0.15, tongue_tip=0.7, tongue_out=0.8),  # θ
     {"jawOpen": 0.15, "tongueOut": 0.8}),
    (_pose(jaw_open=0.75),  # a
     {"jawOpen": 0.75}),
]


@pytest.mark.parametrize("pose,expected", GOLDEN)
def test_golden_poses(pose, expected):
    out = _arkit(pose)
    for name, value in out.items():
        assert value == pytest.approx(expected.get(name, 0.0), abs=1e-6), name


@settings(max_examples=60, deadline=None)
@given(arrays(np.float32, st.tuples(st.integers(1, 8), st.just(len(ARTICULATION_PARAMS))),
              elements=st.floats(-0.5, 1.5, width=32)))
def test_outputs_in_unit_range_and_monotone(values):
    out = articulation_to_arkit(values)
    assert out.shape == (values.shape[0], len(ARKIT_MOUTH))
    assert np.all(out >= 0) and np.all(out <= 1)
    # raising any parameter never lowers an output, except lip_close lowering mouthFunnel
    funnel = ARKIT_MOUTH.index("mouthFunnel")
    for p in range(len(ARTICULATION_PARAMS)):
        bumped = values.copy()
        bumped[:, p] = np.clip(bumped[:, p], 0, 1) + 0.1
        diff = articulation_to_arkit(bumped) - articulation_to_arkit(np.clip(values, 0, 1))
        if ARTICULATION_PARAMS[p] == "lip_close":
            diff = np.delete(diff, funnel, axis=1)
        assert np.all(diff >= -1e-6)


def test_curves_and_errors():
    values = np.tile([[0.3, 0, 0, 0, 1.0, 0, 0, 0, 0]], (4, 1))
    curves = arkit_curves(FrameCurves(30.0, ARTICULATION_PARAMS, values))
    assert curves.channels == ARKIT_MOUTH and curves.n_frames == 4 and curves.fps == 30.0
    assert np.allclose(curves.channel("mouthClose"), curves.channel("jawOpen"))
    with pytest.raises(InputError, match="shape"):
        articulation_to_arkit(np.zeros((3, 5)))
    with pytest.raises(InputError, match="NaN"):
        articulation_to_arkit(np.full((1, 9), np.nan))
