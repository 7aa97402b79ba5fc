"""docs/blender_import.py outside Blender: parsing, matching, resampling and keying with a stand-in bpy."""

from __future__ import annotations

import numpy as np
import pytest

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.formats import write_all
from visemes.core.vocabulary import OCULUS_15

import blender_fakes

ARKIT = ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker")


def _animation(n=31, fps=30.0):
    t = np.arange(n) / fps
    ramp = np.clip(t / t[-1], 0, 1)[:, None]
    art = FrameCurves(fps, ARTICULATION_PARAMS, np.repeat(ramp, 9, 1) * 0.5)
    bs = FrameCurves(fps, ARKIT, np.concatenate([ramp, 1 - ramp, np.full_like(ramp, 0.25), ramp * 0.5], 1))
    vis = np.zeros((n, 15))
    vis[: n // 2, OCULUS_15.index("PP")] = 1.0
    vis[n // 2 :, OCULUS_15.index("ih")] = 1.0
    return MouthAnimation(art, bs, FrameCurves(fps, OCULUS_15, vis))


def test_reads_our_csv_json_and_oculus_csv_identically(blender, tmp_path):
    module, *_ = blender
    paths = write_all(_animation(), tmp_path, ["csv", "json", "oculus"], stem="take")
    csv_bs = module.read_curves(paths[0], "blendshapes")
    json_bs = module.read_curves(paths[1], "blendshapes")
    assert csv_bs.channels == json_bs.channels == ARKIT
    assert csv_bs.fps == pytest.approx(30.0) and json_bs.fps == 30.0
    assert np.allclose(csv_bs.values, json_bs.values, atol=1e-5)
    assert np.allclose(np.array(csv_bs.values)[:, 0], np.linspace(0, 1, 31), atol=1e-5)
    ocu = module.read_curves(paths[2], "visemes")
    assert ocu.channels == OCULUS_15 and np.allclose(ocu.values, module.read_curves(paths[1], "visemes").values)
    with pytest.raises(ValueError, match="time"):
        bad = tmp_path / "bad.csv"
        bad.write_text("a,b\n1,2\n")
        module.read_curves(bad, "blendshapes")


def test_matching_resampling_and_thinning(blender):
    module, *_ = blender
    names = ["Basis", "JawOpen", "mouth_funnel", "viseme_aa", "viseme_PP", "viseme_I", "viseme_U"]
    assert module.match_shape_keys(ARKIT, names, "arkit") == {"jawOpen": "JawOpen", "mouthFunnel": "mouth_funnel"}
    assert module.match_shape_keys(OCULUS_15, names, "oculus") == {
        "PP": "viseme_PP", "aa": "viseme_aa", "ih": "viseme_I", "ou": "viseme_U"}
    # 1 s of a linear ramp at 30 fps onto a 24 fps scene: 25 frames, exact values, thinned to 2 keys.
    curves = module.Curves(30.0, ("jawOpen",), tuple((i / 30,) for i in range(31)))
    frames, rows = module.resample(curves, 24.0, 1)
    assert frames == list(range(1, 26))
    assert np.allclose([r[0] for r in rows], np.arange(25) / 24)
    plan = module.plan_keys(curves, ["jawOpen"], "arkit", 24.0, start_frame=1)
    assert plan.keys == {"jawOpen": [(1, 0.0), (25, pytest.approx(1.0))]}
    # A step keeps its corners.
    step = [(f, 0.0 if f < 5 else 1.0) for f in range(10)]
    assert module.thin(step) == [(0, 0.0), (4, 0.0), (5, 1.0), (9, 1.0)]


def test_main_keys_the_active_mesh(blender, tmp_path):
    module, obj, scene, saved = blender
    csv_path = write_all(_animation(), tmp_path, ["csv"], stem="take")[0]
    assert module.main([str(csv_path), "--mode", "auto", "--save"]) == 0
    blocks = obj.data.shape_keys.key_blocks
    # auto picks Oculus (4 matching shape keys beat 2 ARKit ones); PP is on for the first half.
    assert blocks["viseme_PP"].keys[0] == (1, 1.0) and blocks["viseme_PP"].keys[-1][1] == 0.0
    assert blocks["viseme_I"].keys[-1] == (25, 1.0)
    assert blocks["JawOpen"].keys == [] and saved == [True]
    assert scene.frame_end == 25
    module.main([str(csv_path), "--mode", "arkit", "--object", "Face", "--set-scene-fps", "--start-frame", "0"])
    assert scene.render.fps == 30 and blocks["JawOpen"].keys[-1] == (30, pytest.approx(1.0))
    bare = blender_fakes.fake_object(["Basis"])
    bare.data.shape_keys = None
    module.bpy.context.active_object = bare
    with pytest.raises(SystemExit, match="shape keys"):
        module.main([str(csv_path)])
