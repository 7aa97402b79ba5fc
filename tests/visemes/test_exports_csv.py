import re

import numpy as np
import pytest

from _export_samples import MOUTH_SHAPES, sample_animation
from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.errors import ExportError, InputError
from visemes.formats import ExportParts, curves_csv, oculus
from visemes.core.vocabulary import OCULUS_15

NUMBER = re.compile(r"^-?\d+\.\d{6}$")


def test_header_columns_and_number_format(tmp_path):
    animation = sample_animation()
    path = curves_csv.write(ExportParts(animation=animation), tmp_path / "c.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["frame", "time"]
    assert header[2:11] == [f"articulation.{p}" for p in ARTICULATION_PARAMS]
    assert header[11:16] == [f"blendshapes.{b}" for b in MOUTH_SHAPES]
    assert header[16:] == [f"visemes.{v}" for v in OCULUS_15]
    assert len(lines) == 1 + animation.n_frames
    row = lines[4].split(",")
    assert len(row) == len(header) == 2 + 9 + 5 + 15
    assert row[0] == "3" and row[1] == "0.100000"
    assert all(NUMBER.match(cell) for cell in row[1:])


def test_round_trip_all_groups(tmp_path):
    animation = sample_animation(fps=25.0)
    path = curves_csv.write(ExportParts(animation=animation), tmp_path / "c.csv")
    back = curves_csv.read_animation_csv(path)
    assert back.fps == 25.0
    for group in ("articulation", "blendshapes", "visemes"):
        assert getattr(back, group).allclose(getattr(animation, group), atol=1e-6)


def test_one_group_has_bare_names(tmp_path):
    animation = sample_animation()
    path = curves_csv.write(ExportParts(animation=animation), tmp_path / "b.csv", group="blendshapes")
    assert path.read_text(encoding="utf-8").splitlines()[0] == "frame,time," + ",".join(MOUTH_SHAPES)
    curves = curves_csv.read_curves_csv(path)
    assert curves.channels == MOUTH_SHAPES and curves.fps == 30.0
    with pytest.raises(InputError, match="Unknown curve group"):
        curves_csv.write(ExportParts(animation=animation), tmp_path / "x.csv", group="mouth")


def test_reader_picks_and_orders_channels_by_name(tmp_path):
    path = curves_csv.write(ExportParts(animation=sample_animation()), tmp_path / "c.csv")
    picked = curves_csv.read_curves_csv(path, ["lip_round", "jaw_open"], group="articulation")
    full = curves_csv.read_curves_csv(path, group="articulation")
    assert picked.channels == ("lip_round", "jaw_open")
    assert np.array_equal(picked.values[:, 1], full.channel("jaw_open"))
    with pytest.raises(ExportError, match="missing channel"):
        curves_csv.read_curves_csv(path, ["jaw_open", "nose_wiggle"], group="articulation")


def test_reads_a_generic_curves_file_from_another_tool(tmp_path):
    path = tmp_path / "other.csv"
    rows = ["time,a,b"] + [f"{1.5 + i / 60:.4f},{i},{2 * i}" for i in range(7)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    curves = curves_csv.read_curves_csv(path)
    assert curves.fps == 60.0 and curves.start == pytest.approx(1.5)
    assert curves.channels == ("a", "b") and curves.values[-1].tolist() == [6.0, 12.0]
    frames_only = tmp_path / "frames.csv"
    frames_only.write_text("frame,a\n0,0.5\n1,0.25\n", encoding="utf-8")
    with pytest.raises(ExportError, match="pass fps"):
        curves_csv.read_curves_csv(frames_only)
    assert curves_csv.read_curves_csv(frames_only, fps=24).n_frames == 2
    with pytest.raises(ExportError, match="not the 30"):
        curves_csv.read_curves_csv(path, fps=30)


@pytest.mark.parametrize("text, message", [
    ("time,a\n", "at least one frame"),
    ("time,a\n0.0,x\n", "must be a number"),
    ("time,a\n0.0,1\n0.0,2\n", "must increase"),
    ("time,a\n0.0,1,3\n", "cells"),
])
def test_reader_errors(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match=message):
        curves_csv.read_curves_csv(path)


def test_oculus_layout_and_round_trip(tmp_path):
    animation = sample_animation()
    path = oculus.write(ExportParts(animation=animation), tmp_path / "o.oculus.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "frame,time,sil,PP,FF,TH,DD,kk,CH,SS,nn,RR,aa,E,ih,oh,ou"
    assert all(len(line.split(",")) == 17 for line in lines)
    back = curves_csv.read_curves_csv(path)
    assert back.allclose(animation.visemes, atol=1e-6)


def test_oculus_needs_oculus_visemes(tmp_path):
    from visemes.core.curves import FrameCurves, MouthAnimation

    a = sample_animation()
    azure = MouthAnimation(a.articulation, a.blendshapes, FrameCurves(30, ("v0", "v1"), np.zeros((a.n_frames, 2))))
    with pytest.raises(ExportError, match="viseme_set='oculus'"):
        oculus.write(ExportParts(animation=azure), tmp_path / "o.csv")


def test_irregular_times_are_refused(tmp_path):
    path = tmp_path / "gap.csv"
    times = [0.0, 0.04, 0.08, 0.16, 0.20, 0.24, 0.28, 0.32]  # one 25 fps frame missing after 0.08
    path.write_text("time,a\n" + "".join(f"{t:.2f},1\n" for t in times), encoding="utf-8")
    with pytest.raises(ExportError, match="not evenly spaced"):
        curves_csv.read_curves_csv(path)


@pytest.mark.parametrize("fps", [24.0, 25.0, 29.97, 30.0, 59.94, 60.0])
def test_frame_rate_survives_six_decimal_times(tmp_path, fps):
    from visemes.core.curves import FrameCurves, MouthAnimation

    n = 40
    curves = FrameCurves(fps, ("a",), np.linspace(0, 1, n)[:, None])
    path = curves_csv.write(ExportParts(animation=MouthAnimation(curves, curves, curves)), tmp_path / "f.csv",
                            group="visemes")
    assert curves_csv.read_curves_csv(path).fps == fps
