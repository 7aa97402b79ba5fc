"""The 2D mouth preview: geometry per articulation, pixels, MP4 and GIF encoding."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.curves import FrameCurves
from visemes.core.errors import ExportError, InputError, OutputExistsError
from visemes.formats.preview import (
    DEFAULT_SIZE,
    PreviewPanel,
    find_ffmpeg,
    iter_frames,
    mouth_geometry,
    render_mouth,
    write_preview,
)
from visemes.core.timeline import Alignment, Interval, Tier

POSES = {
    "a": dict(jaw_open=0.85, lip_spread=0.2),
    "i": dict(jaw_open=0.2, lip_spread=0.9, upper_lip_raise=0.3),
    "u": dict(jaw_open=0.25, lip_round=0.9, lip_protrude=0.85),
    "m": dict(jaw_open=0.1, lip_close=1.0),
    "f": dict(jaw_open=0.15, lower_lip_tuck=0.95, upper_lip_raise=0.3),
    "th": dict(jaw_open=0.25, tongue_tip=0.8, tongue_out=0.9),
}

CAVITY = np.array([58, 16, 24])
TEETH = np.array([246, 243, 232])
SKIN = np.array([236, 196, 168])


def _width(pose: dict) -> float:
    g = mouth_geometry(pose)
    return float(np.isfinite(g.outer_top).sum())


def _count(img: np.ndarray, color: np.ndarray, tol: int = 12) -> int:
    return int((np.abs(img.astype(int) - color).max(axis=2) <= tol).sum())


def test_geometry_orders_the_vowels_and_consonants():
    height = {k: mouth_geometry(v).aperture_height for k, v in POSES.items()}
    assert height["a"] > height["u"] > 0
    assert height["a"] > 2 * height["i"]
    assert height["m"] == 0.0
    assert _width(POSES["i"]) > _width(POSES["a"]) > _width(POSES["u"])
    assert _width(POSES["u"]) < 0.7 * _width(POSES["i"])


def test_pixels_look_like_the_phone():
    imgs = {k: render_mouth(v) for k, v in POSES.items()}
    h, w = DEFAULT_SIZE[1], DEFAULT_SIZE[0]
    for img in imgs.values():
        assert img.shape == (h, w, 3) and img.dtype == np.uint8
        assert (img[0, 0] == SKIN).all()
    # /a/: a big dark cavity; /m/: no cavity and no teeth at all.
    assert _count(imgs["a"], CAVITY) > 1500
    assert _count(imgs["m"], CAVITY) == 0 and _count(imgs["m"], TEETH) == 0
    # /f/: the upper teeth show, resting on the lower lip, with little dark cavity.
    assert _count(imgs["f"], TEETH, 20) > 3 * _count(imgs["f"], CAVITY)
    # /θ/: tongue-coloured pixels between the teeth, more than with the tongue inside.
    tongue = np.array([214, 104, 116])
    inside = render_mouth({**POSES["th"], "tongue_out": 0.0})
    assert _count(imgs["th"], tongue, 10) > _count(inside, tongue, 10) + 100


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(-0.5, 1.5, allow_nan=False), min_size=9, max_size=9))
def test_any_pose_renders_inside_the_panel(values):
    img = render_mouth(np.array(values))
    assert img.shape == (DEFAULT_SIZE[1], DEFAULT_SIZE[0], 3)
    # The mouth never touches the panel border (the label strip and title stay readable).
    assert (img[:, 0] == SKIN).all() and (img[:, -1] == SKIN).all() and (img[0] == SKIN).all()


def test_bad_pose_and_size_are_input_errors():
    with pytest.raises(InputError, match="Unknown articulation"):
        render_mouth({"smile": 1.0})
    with pytest.raises(InputError, match="NaN"):
        render_mouth(np.full(9, np.nan))
    with pytest.raises(InputError, match="even"):
        render_mouth(POSES["a"], size=(321, 240))


def _panel(seconds: float = 1.0, fps: float = 30.0, title: str = "en-US") -> PreviewPanel:
    n = int(seconds * fps) + 1
    t = np.arange(n) / fps
    vals = np.stack([0.5 + 0.5 * np.sin(2 * np.pi * t * (i + 1) / 3) for i in range(9)], 1)
    phones = Tier("phones", (Interval(0.0, 0.4 * seconds, "m"), Interval(0.4 * seconds, 0.9 * seconds, "a")))
    visemes = Tier("visemes", (Interval(0.0, 0.4 * seconds, "PP"), Interval(0.4 * seconds, 0.9 * seconds, "aa")))
    return PreviewPanel(FrameCurves(fps, ARTICULATION_PARAMS, vals), title, Alignment((phones, visemes), seconds))


def test_side_by_side_frames_and_labels():
    frames = list(iter_frames([_panel(title="ar"), _panel(title="hi")]))
    assert len(frames) == 31
    w, h = DEFAULT_SIZE
    assert frames[0].shape == (h, 2 * w + 2, 3)
    # Label strip carries text (bright pixels) while a phone is active, none in the trailing gap.
    strip = slice(h - 20, h)
    assert (frames[5][strip] > 200).any()
    assert not (frames[29][strip] > 200).any()
    with pytest.raises(InputError, match="frame rate"):
        list(iter_frames([_panel(), _panel(fps=25.0)]))


def test_panel_needs_articulation_channels():
    curves = FrameCurves(30.0, ("jaw_open",), np.zeros((3, 1)))
    with pytest.raises(InputError, match="missing"):
        PreviewPanel(curves)


@pytest.mark.skipif(find_ffmpeg() is None, reason="imageio-ffmpeg binary not installed")
def test_mp4_with_audio_decodes_back(tmp_path):
    panel = _panel()
    sr = 16000
    audio = (0.2 * np.sin(2 * np.pi * 220 * np.arange(sr) / sr)).astype(np.float32)
    out = write_preview(tmp_path / "p.mp4", panel, audio, sr)
    assert out == tmp_path / "p.mp4" and out.read_bytes()[4:8] == b"ftyp"
    exe = find_ffmpeg()
    probe = subprocess.run([exe, "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    assert "Video: h264" in probe and "Audio: aac" in probe
    raw = subprocess.run(
        [exe, "-v", "error", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"], capture_output=True
    ).stdout
    w, h = DEFAULT_SIZE
    decoded = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    assert decoded.shape[0] == 31
    expected = next(iter_frames([panel]))
    assert np.abs(decoded[0].astype(int) - expected).mean() < 6  # lossy, but the same picture
    with pytest.raises(OutputExistsError):
        write_preview(out, panel, audio, sr)
    assert [p.name for p in tmp_path.iterdir()] == ["p.mp4"]  # no temp files left


def test_failing_encoder_leaves_nothing(tmp_path):
    with pytest.raises(ExportError, match="ffmpeg failed"):
        write_preview(tmp_path / "p.mp4", _panel(0.3), ffmpeg="/bin/false")
    assert list(tmp_path.iterdir()) == []


def test_gif_fallback_without_ffmpeg(tmp_path, monkeypatch):
    from PIL import Image

    monkeypatch.setattr("visemes.formats.preview.find_ffmpeg", lambda: None)
    with pytest.warns(UserWarning, match="GIF"):
        out = write_preview(tmp_path / "p.mp4", _panel(0.5))
    assert out.suffix == ".gif"
    with Image.open(out) as im:
        assert im.n_frames == 16 and im.size == DEFAULT_SIZE
    with pytest.raises(InputError, match=r"\.mp4 or \.gif"):
        write_preview(tmp_path / "p.avi", _panel(0.5))
