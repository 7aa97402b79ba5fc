"""Motion-capture and generic curve loaders (self-made fixtures)."""

from __future__ import annotations

import numpy as np
import pytest

from visemes.mouth.arkit import ARKIT_52, ARKIT_MOUTH
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import InputError
from visemes.core.vocabulary import OCULUS_15


def write_live_link_csv(path, n=120, fps=60.0):
    """A Live Link Face-style take: Timecode, BlendshapeCount, the 52 ARKit names (+ head pose)."""
    header = ["Timecode", "BlendshapeCount", *ARKIT_52, "HeadYaw"]
    rows = [",".join(header)]
    jaw = ARKIT_52.index("jawOpen")
    for i in range(n):
        frame = 10 + i
        tc = f"12:00:{frame // 60:02d}:{frame % 60:02d}.250"
        values = np.zeros(len(ARKIT_52) + 1)
        values[jaw] = 0.5 + 0.5 * np.sin(i / 10)
        rows.append(",".join([tc, "61", *(f"{v:.4f}" for v in values)]))
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_live_link_face_csv_to_example(tmp_path, vocab, make_alignment):
    from visemes.models.data import example_from_curves, read_live_link_face

    values, names, times = read_live_link_face(write_live_link_csv(tmp_path / "take.csv"))
    assert values.shape == (120, 53) and names[:2] == ("eyeBlinkLeft", "eyeLookDownLeft")
    np.testing.assert_allclose(times[:3], [0, 1 / 60, 2 / 60], atol=1e-9)
    al = make_alignment(vocab, 2.0)
    ex = example_from_curves(al, values, names, 60.0, vocab, 30.0, ARKIT_MOUTH, OCULUS_15, "en-us")
    assert ex.has == (False, True, False) and ex.blendshapes.shape == (61, len(ARKIT_MOUTH))
    jaw = ARKIT_MOUTH.index("jawOpen")
    np.testing.assert_allclose(ex.blendshapes[:10, jaw], 0.5 + 0.5 * np.sin(np.arange(10) * 2 / 10), atol=2e-3)


def test_generic_curves_npy_and_csv(tmp_path, vocab, make_alignment):
    from visemes.models.data import example_from_curves, read_curves

    arr = np.random.default_rng(0).random((31, 9)).astype(np.float32)
    np.save(tmp_path / "c.npy", arr)
    values, names = read_curves(tmp_path / "c.npy", ARTICULATION_PARAMS)
    np.testing.assert_array_equal(values, arr)
    (tmp_path / "c.csv").write_text(",".join(ARTICULATION_PARAMS) + "\n" + "\n".join(
        ",".join(f"{v:.6f}" for v in row) for row in arr) + "\n", encoding="utf-8")
    values2, names2 = read_curves(tmp_path / "c.csv")
    np.testing.assert_allclose(values2, arr, atol=1e-6) and names2 == ARTICULATION_PARAMS
    ex = example_from_curves(make_alignment(vocab, 1.0), values2, names2, 30.0, vocab, 30.0, ARKIT_MOUTH, OCULUS_15)
    assert ex.has == (True, False, False)
    np.testing.assert_allclose(ex.articulation, arr, atol=1e-6)
    with pytest.raises(InputError, match="name per column"):
        read_curves(tmp_path / "c.npy")
    np.save(tmp_path / "obj.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError):  # object arrays are never unpickled
        read_curves(tmp_path / "obj.npy", ["a"])
    with pytest.raises(InputError, match="articulation parameters"):
        example_from_curves(make_alignment(vocab, 1.0), arr[:, :2], ["x", "y"], 30.0, vocab, 30.0,
                            ARKIT_MOUTH, OCULUS_15)


def test_not_a_live_link_csv(tmp_path):
    from visemes.models.data import read_live_link_face

    (tmp_path / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="Live Link Face"):
        read_live_link_face(tmp_path / "x.csv")
