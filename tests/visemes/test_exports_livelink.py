import re

import numpy as np
import pytest

from _export_samples import MOUTH_SHAPES, sample_animation
from visemes.mouth.arkit import ARKIT_52, ARKIT_MOUTH
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import ExportError
from visemes.formats import ExportParts, livelink

APP_HEADER = (
    "Timecode,BlendShapeCount,EyeBlinkLeft,EyeLookDownLeft,EyeLookInLeft,EyeLookOutLeft,EyeLookUpLeft,"
    "EyeSquintLeft,EyeWideLeft,EyeBlinkRight,EyeLookDownRight,EyeLookInRight,EyeLookOutRight,EyeLookUpRight,"
    "EyeSquintRight,EyeWideRight,JawForward,JawRight,JawLeft,JawOpen,MouthClose,MouthFunnel,MouthPucker,"
    "MouthRight,MouthLeft,MouthSmileLeft,MouthSmileRight,MouthFrownLeft,MouthFrownRight,MouthDimpleLeft,"
    "MouthDimpleRight,MouthStretchLeft,MouthStretchRight,MouthRollLower,MouthRollUpper,MouthShrugLower,"
    "MouthShrugUpper,MouthPressLeft,MouthPressRight,MouthLowerDownLeft,MouthLowerDownRight,MouthUpperUpLeft,"
    "MouthUpperUpRight,BrowDownLeft,BrowDownRight,BrowInnerUp,BrowOuterUpLeft,BrowOuterUpRight,CheekPuff,"
    "CheekSquintLeft,CheekSquintRight,NoseSneerLeft,NoseSneerRight,TongueOut,HeadYaw,HeadPitch,HeadRoll,"
    "LeftEyeYaw,LeftEyePitch,LeftEyeRoll,RightEyeYaw,RightEyePitch,RightEyeRoll"
)
TIMECODE = re.compile(r"^\d{2}:\d{2}:\d{2}:\d{2}\.\d{3}$")
VALUE = re.compile(r"^-?\d\.\d{8}$")


def animation_at(fps: float, seconds: float = 1.2) -> MouthAnimation:
    a = sample_animation(fps=fps, duration=seconds)
    return MouthAnimation(a.articulation, a.blendshapes, a.visemes)


def test_layout_is_the_apps(tmp_path):
    path = livelink.write(ExportParts(animation=animation_at(60)), tmp_path / "t.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == APP_HEADER
    assert len(lines[0].split(",")) == 2 + 61
    first, later = lines[1].split(","), lines[62].split(",")
    assert first[0] == "00:00:00:00.000" and later[0] == "00:00:01:01.000"  # frame 61 at 60 fps
    for row in (first, later):
        assert len(row) == 63 and row[1] == "61"
        assert TIMECODE.match(row[0]) and all(VALUE.match(v) for v in row[2:])
    assert first[-9:] == ["0.00000000"] * 9  # head and eye rotations


def test_timecode_fields():
    assert livelink.timecode(0, 30) == "00:00:00:00.000"
    assert livelink.timecode(29, 30) == "00:00:00:29.000"
    assert livelink.timecode(30 * 3661 + 7, 30, 0.25) == "01:01:01:07.250"
    assert livelink.parse_timecode("14:03:52:28.207") == (14, 3, 52, pytest.approx(28.207))
    with pytest.raises(ExportError, match="HH:MM:SS:FF"):
        livelink.parse_timecode("14:03:52.28")


def test_round_trip_mouth_blendshapes(tmp_path):
    animation = animation_at(30)
    path = livelink.write(ExportParts(animation=animation), tmp_path / "t.csv")
    curves = livelink.read_livelink_csv(path)  # 1.2 s take: fps inferred from the frame field
    assert curves.fps == 30 and len(curves.channels) == 52 and curves.n_frames == animation.n_frames
    for name in MOUTH_SHAPES:
        assert np.allclose(curves.channel(name), animation.blendshapes.channel(name), atol=1e-7)
    assert np.all(curves.channel("eyeBlinkLeft") == 0)
    with_rot = livelink.read_livelink_csv(path, include_rotations=True)
    assert with_rot.channels[-9:] == livelink.LIVELINK_ROTATIONS


def test_reader_resamples_dropped_frames_and_midnight(tmp_path):
    header = APP_HEADER.split(",")
    jaw = header.index("JawOpen")
    rows = []
    # 60 fps capture starting just before midnight, with frame 23:59:59:59 -> 00:00:00:01 (frame 00 dropped).
    for stamp, value in [("23:59:59:58.000", 0.0), ("23:59:59:59.000", 0.1), ("00:00:00:01.000", 0.3)]:
        cells = ["0.0"] * len(header)
        cells[0], cells[1], cells[jaw] = stamp, "61", str(value)
        rows.append(",".join(cells))
    path = tmp_path / "take.csv"
    path.write_text(",".join(header) + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    curves = livelink.read_livelink_csv(path, fps=60)
    assert curves.n_frames == 4
    assert np.allclose(curves.channel("jawOpen"), [0.0, 0.1, 0.2, 0.3], atol=1e-6)


def test_columns_are_the_arkit_52_capitalised(tmp_path):
    assert sorted(livelink.arkit_name(c) for c in livelink.LIVELINK_BLENDSHAPES) == sorted(ARKIT_52)
    # The animation's real channel names (ARKIT_MOUTH) land in their app columns.
    n = 3
    shapes = FrameCurves(30, ARKIT_MOUTH, np.tile(np.linspace(0.01, 0.99, len(ARKIT_MOUTH)), (n, 1)))
    path = livelink.write(ExportParts(animation=MouthAnimation(shapes, shapes, shapes)), tmp_path / "m.csv")
    back = livelink.read_livelink_csv(path, fps=30)
    assert back.channels == ARKIT_52
    assert np.allclose(back.select(ARKIT_MOUTH).values, shapes.values, atol=1e-7)


def test_refuses_non_arkit_channels(tmp_path):
    a = animation_at(30)
    odd = MouthAnimation(a.articulation, FrameCurves(30, ("smirk",), np.zeros((a.n_frames, 1))), a.visemes)
    with pytest.raises(ExportError, match="not ARKit blendshapes"):
        livelink.write(ExportParts(animation=odd), tmp_path / "x.csv")


@pytest.mark.parametrize("frame,fps,expected", [
    # 29.97 drop-frame: labels :00 and :01 are skipped at each minute except every tenth
    (1799, 29.97, "00:00:59:29.000"), (1800, 29.97, "00:01:00:02.000"), (3597, 29.97, "00:01:59:29.000"),
    (3598, 29.97, "00:02:00:02.000"), (17982, 29.97, "00:10:00:00.000"), (17982 + 1800, 29.97, "00:11:00:02.000"),
    (107892, 29.97, "01:00:00:00.000"),  # one hour of drop-frame = 6 x 17982 frames
    # 59.94 drop-frame skips four labels
    (3600, 59.94, "00:01:00:04.000"),
    # 23.976 is non-drop at 24: the label runs at 24 per timecode second
    (24, 23.976, "00:00:01:00.000"), (1440, 23.976, "00:01:00:00.000"),
    (90, 30, "00:00:03:00.000"),
])
def test_smpte_timecodes(frame, fps, expected):
    assert livelink.timecode(frame, fps) == expected
    dropframe_mark = expected[:8] + ";" + expected[9:]  # HH:MM:SS;FF, SMPTE's drop-frame spelling
    for text in (expected, dropframe_mark):
        assert livelink.timecode_frame(*livelink.parse_timecode(text), fps) == frame  # the inverse


def test_fractional_rates_write_and_read_back(tmp_path):
    n = 2000  # past the first minute at 29.97: the drop-frame jump is inside the take
    t = np.arange(n) / 29.97
    c = FrameCurves(29.97, ("jawOpen",), (0.5 + 0.4 * np.sin(t))[:, None])
    path = livelink.write(ExportParts(animation=MouthAnimation(c, c, c)), tmp_path / "y.csv")
    rows = path.read_text().splitlines()
    assert rows[1800].startswith("00:00:59:29.000,") and rows[1801].startswith("00:01:00:02.000,")
    back = livelink.read_livelink_csv(path, fps=29.97)
    assert back.n_frames == n
    np.testing.assert_allclose(back.channel("jawOpen"), c.channel("jawOpen"), atol=1e-6)


def test_reader_refuses_other_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("frame,time,jawOpen\n0,0.0,0.1\n", encoding="utf-8")
    with pytest.raises(ExportError, match="not a Live Link Face CSV"):
        livelink.read_livelink_csv(path)
