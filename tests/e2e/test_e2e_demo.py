"""`visemes demo`: four languages through the whole pipeline, every output, and the Blender script on it."""

from __future__ import annotations

import json
import numpy as np
import pytest

from visemes.cli.main import main
from visemes.cli.demo import DEMO_LANGS
from visemes.formats import FORMATS
from visemes.formats.preview import find_ffmpeg

@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "visemes-demo"
    # Coarticulation curves keep this test cheap; the neural model's path is tested once in test_e2e_pipeline.
    args = ["demo", "-o", str(out), "--no-model"]
    import io
    from contextlib import redirect_stdout

    buf = io.StringIO()
    with redirect_stdout(buf):
        rc = main(args)
    return rc, out, buf.getvalue()


def test_demo_writes_every_format_plot_and_preview(demo_run):
    rc, out, printed = demo_run
    assert rc == 0, printed
    assert DEMO_LANGS == ("cmn", "ar", "hi", "en-US")
    for lang in DEMO_LANGS:
        folder = out / lang
        names = {p.name for p in folder.iterdir()}
        assert {f.path_for(folder, "visemes").name for f in FORMATS.values()} <= names
        assert "visemes.png" in names and "visemes.summary.json" in names
        assert ("visemes.mp4" if find_ffmpeg() else "visemes.gif") in names
        assert (folder / "visemes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        summary = json.loads((folder / "visemes.summary.json").read_text())
        assert summary["timing"] == "aligned" and summary["aligner"] == "builtin"
        assert summary["phones"] > 5 and summary["lang"].lower().startswith(lang.split("-")[0].lower())
        assert f"{lang:6s}" in printed and f"{folder}/" in printed
        assert summary["curves"] == "coarticulation"
    assert "demo finished" in printed and "aligner vs espeak timing" in printed
    # The aligner stays near espeak-ng's own phone times on every script (sanity bound, not a benchmark).
    errors = [float(line.split("timing ")[1].split(" ms")[0]) for line in printed.splitlines() if "timing " in line]
    assert len(errors) == 4 and max(errors) < 250


def test_demo_refuses_to_overwrite_without_flag(demo_run, capsys):
    _, out, _ = demo_run
    before = (out / "hi" / "visemes.json").read_bytes()
    assert main(["demo", "-o", str(out), "--lang", "hi", "--no-model", "--no-preview"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert (out / "hi" / "visemes.json").read_bytes() == before


def test_blender_script_keys_the_demo_output(demo_run, blender):
    """The guide's Blender step on the demo's English CSV (with a stand-in bpy: Blender is not installable here)."""
    _, out, _ = demo_run
    module, obj, scene, _ = blender
    csv_path = out / "en-US" / "visemes.csv"
    assert module.main([str(csv_path), "--mode", "oculus", "--set-scene-fps"]) == 0
    blocks = obj.data.shape_keys.key_blocks
    aa = blocks["viseme_aa"].keys
    assert len(aa) > 3 and max(v for _, v in aa) > 0.3
    summary = json.loads((out / "en-US" / "visemes.summary.json").read_text())
    assert scene.frame_end == 1 + summary["frames"] - 1
    arkit = module.read_curves(out / "en-US" / "visemes.json", "blendshapes")
    assert "jawOpen" in arkit.channels and np.max(np.array(arkit.values)[:, arkit.channels.index("jawOpen")]) > 0.1
