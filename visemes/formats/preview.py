"""A 2D frontal mouth driven by articulation curves, rendered to MP4 (with audio) or GIF.

Why hand-written numpy rasterization instead of matplotlib patches: every mouth part here is
"x-monotone" (an upper and a lower edge per pixel column), so a shape is two 1-D curves plus one
broadcast comparison against the row index. That draws a 320x240 frame in ~2 ms, where building and
drawing matplotlib patches costs ~30 ms per frame. Text (titles, phone labels) is drawn once per label
with Pillow and matplotlib's bundled DejaVu font (IPA coverage), then pasted.

Geometry, in pixels of a panel of width ``W`` (scale ``s = W / 320``):

* lips: an outer contour (lens shape with a cupid's bow) and an inner aperture (superellipse whose
  exponent goes from a slit for spread lips to a circle for rounded lips);
* teeth: upper row fixed to the skull, lower row moving with the jaw; both seen only through the aperture;
* tongue: a body whose top rises with ``tongue_tip`` and a front part drawn over the teeth with ``tongue_out``.

Encoding uses the ffmpeg binary shipped in the ``imageio-ffmpeg`` wheel (raw RGB frames on stdin, the
audio as a temporary WAV); without it the preview falls back to an animated GIF through Pillow.
"""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from PIL import Image, ImageDraw, ImageFont

from visemes.core.articulation import ARTICULATION_PARAMS
from visemes.core.atomic import atomic_path, check_writable
from visemes.core.curves import FrameCurves
from visemes.core.errors import ExportError, InputError
from visemes.core.media import find_ffmpeg
from visemes.core.timeline import Alignment, Tier

#: Panel size in pixels (width, height); both even, as H.264 with yuv420p requires.
DEFAULT_SIZE = (320, 240)

# RGB colours (float, 0..255).
_SKIN = np.array([236, 196, 168], np.float32)
_UPPER_LIP = np.array([178, 82, 92], np.float32)
_LOWER_LIP = np.array([196, 96, 104], np.float32)
_SEAM = np.array([110, 40, 50], np.float32)
_CAVITY = np.array([58, 16, 24], np.float32)
_TEETH = np.array([246, 243, 232], np.float32)
_TEETH_GAP = np.array([200, 192, 180], np.float32)
_TONGUE = np.array([214, 104, 116], np.float32)
_LABEL_BG = np.array([40, 40, 48], np.float32)

_INDEX = {name: i for i, name in enumerate(ARTICULATION_PARAMS)}


@dataclass(frozen=True)
class PreviewPanel:
    """One mouth in a preview: articulation curves, a title, and optionally the timeline for labels."""

    articulation: FrameCurves
    title: str = ""
    alignment: Alignment | None = None

    def __post_init__(self) -> None:
        missing = [p for p in ARTICULATION_PARAMS if p not in self.articulation.channels]
        if missing:
            raise InputError(
                f"Preview needs articulation curves with channels {list(ARTICULATION_PARAMS)}; missing {missing}. "
                "Pass MouthAnimation.articulation."
            )


def _params(values: np.ndarray | dict[str, float]) -> np.ndarray:
    """A length-9 float vector in ARTICULATION_PARAMS order, clipped to [0, 1]."""
    if isinstance(values, dict):
        unknown = set(values) - set(ARTICULATION_PARAMS)
        if unknown:
            raise InputError(f"Unknown articulation parameters {sorted(unknown)}; use {list(ARTICULATION_PARAMS)}.")
        vec = np.zeros(len(ARTICULATION_PARAMS), np.float32)
        vec[_INDEX["jaw_open"]] = 0.05
        for k, v in values.items():
            vec[_INDEX[k]] = v
    else:
        vec = np.asarray(values, np.float32).reshape(-1)
        if vec.shape[0] != len(ARTICULATION_PARAMS):
            raise InputError(f"Expected {len(ARTICULATION_PARAMS)} articulation values, got {vec.shape[0]}.")
    if not np.all(np.isfinite(vec)):
        raise InputError("Articulation values contain NaN or infinity.")
    return np.clip(vec, 0.0, 1.0)


@dataclass(frozen=True)
class MouthGeometry:
    """Edges of every mouth part as per-column curves (pixel rows), for one pose."""

    x: np.ndarray             # column centres relative to the mouth centre
    outer_top: np.ndarray
    outer_bottom: np.ndarray
    inner_top: np.ndarray
    inner_bottom: np.ndarray
    seam: np.ndarray          # where the lips meet when closed
    upper_teeth: tuple[np.ndarray, np.ndarray]
    lower_teeth: tuple[np.ndarray, np.ndarray]
    tongue: tuple[np.ndarray, np.ndarray]
    tongue_front: tuple[np.ndarray, np.ndarray]
    tongue_front_alpha: float
    teeth_light: float        # protruded, rounded lips shade the teeth behind them
    aperture_height: float    # maximum inner opening, pixels (0 = lips closed)


def _superellipse(u: np.ndarray, n: float) -> np.ndarray:
    """(1 - |u|^n)^(1/n) inside |u| < 1, 0 outside."""
    a = np.clip(1.0 - np.abs(u) ** n, 0.0, None)
    return a ** (1.0 / n)


def mouth_geometry(values: np.ndarray | dict[str, float], width: int = DEFAULT_SIZE[0], height: int = DEFAULT_SIZE[1]) -> MouthGeometry:
    """The pose's edges for a panel ``width`` x ``height`` (see the module docstring for the model)."""
    p = _params(values)
    jaw, spread, rnd, prot, close, tuck, lraise, ttip, tout = (float(v) for v in p)
    s = width / 320.0
    cy = height * 0.46
    x = np.arange(width, dtype=np.float32) - width / 2 + 0.5

    # Width: spreading pulls the corners back, rounding and protrusion draw them in.
    hw = 78.0 * s * (1.0 + 0.28 * spread - 0.42 * rnd - 0.12 * prot)
    # Opening: the jaw lowers mostly the lower lip; closure presses the lips together; a raised upper lip
    # shows the upper teeth even with a closed jaw.
    open_total = 64.0 * s * jaw * (1.0 - close) * (1.0 - 0.6 * tuck)
    up = 0.33 * open_total + (7.0 * s * lraise + 5.0 * s * tuck) * (1.0 - close)
    down = 0.67 * open_total
    # Lower-lip tuck (f, v): the lower lip rises to the upper teeth's edge.
    teeth_edge = 4.0 * s
    down = (1.0 - tuck) * down + tuck * min(down, teeth_edge + 1.0 * s)
    # Lip thickness: protrusion and rounding evert and thicken the lips, spreading thins them.
    fullness = 1.0 + 0.45 * prot + 0.25 * rnd - 0.30 * spread
    t_up = 15.0 * s * fullness * (1.0 - 0.15 * close)
    t_low = 19.0 * s * fullness * (1.0 - 0.15 * close) * (1.0 - 0.35 * tuck)

    u_out = x / max(hw, 1e-3)
    f_out = _superellipse(u_out, 1.7 + 0.5 * rnd)
    bow = 3.5 * s * np.exp(-((u_out / 0.10) ** 2)) - 2.0 * s * np.exp(-(((np.abs(u_out) - 0.22) / 0.10) ** 2))
    hw_in = hw * (0.86 - 0.22 * rnd - 0.10 * prot)
    u_in = x / max(hw_in, 1e-3)
    n_in = 1.5 + 1.3 * rnd  # slit-like lens when spread, circle-like when rounded
    f_in = _superellipse(u_in, n_in)

    inner_top = cy - up * f_in
    inner_bottom = cy + down * f_in
    outer_top = cy - (up * f_out + t_up * f_out) + bow * f_out
    outer_bottom = cy + down * f_out + t_low * f_out
    outside = np.abs(u_out) >= 1.0
    outer_top = np.where(outside, np.inf, outer_top)
    outer_bottom = np.where(outside, -np.inf, outer_bottom)
    inner_top = np.where(np.abs(u_in) >= 1.0, np.inf, inner_top)
    inner_bottom = np.where(np.abs(u_in) >= 1.0, -np.inf, inner_bottom)
    seam = np.where(np.abs(u_out) < 0.97, cy + 0.0 * x, np.nan)

    # Teeth: a gently curved arch; the upper row is fixed, the lower row follows the jaw.
    tw = 52.0 * s
    arch = 5.0 * s * (x / tw) ** 2
    in_arch = np.abs(x) < tw
    upper_teeth = (np.where(in_arch, cy - 26.0 * s, np.inf), np.where(in_arch, cy + teeth_edge - arch, -np.inf))
    lower_top = cy + 0.67 * 64.0 * s * jaw - 3.0 * s + arch
    lower_teeth = (np.where(in_arch, lower_top, np.inf), np.where(in_arch, lower_top + 24.0 * s, -np.inf))

    # Tongue body: rests low; the tip rises toward the upper teeth (t, d, n, l).
    tgw = 40.0 * s
    f_t = _superellipse(x / tgw, 2.0)
    floor = cy + down + 4.0 * s
    rest_top = lower_top + 6.0 * s
    top = (1.0 - ttip) * rest_top + ttip * (cy + teeth_edge - 1.0 * s)
    tongue = (np.where(f_t > 0, floor - (floor - top) * f_t ** 0.6, np.inf), np.where(f_t > 0, floor + 20.0 * s, -np.inf))
    # Tongue front (θ, ð): between or past the teeth, drawn over them.
    fw = 26.0 * s
    f_f = _superellipse(x / fw, 2.0)
    front_top = cy + teeth_edge - 3.0 * s
    front_bottom = front_top + (6.0 + 10.0 * tout) * s
    tongue_front = (np.where(f_f > 0, front_top + (1 - f_f) * 4.0 * s, np.inf), np.where(f_f > 0, front_bottom, -np.inf))
    return MouthGeometry(
        x=x,
        outer_top=outer_top,
        outer_bottom=outer_bottom,
        inner_top=inner_top,
        inner_bottom=inner_bottom,
        seam=seam,
        upper_teeth=upper_teeth,
        lower_teeth=lower_teeth,
        tongue=tongue,
        tongue_front=tongue_front,
        tongue_front_alpha=float(np.clip((tout - 0.15) / 0.5, 0.0, 1.0)),
        teeth_light=float(1.0 - 0.55 * max(prot, rnd)),
        aperture_height=float(up + down),
    )


def _band(rows: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """Coverage (0..1) of the vertical band top..bottom per column, anti-aliased along y."""
    return np.clip(rows - top + 0.5, 0.0, 1.0) * np.clip(bottom - rows + 0.5, 0.0, 1.0)


def _over(img: np.ndarray, alpha: np.ndarray, color: np.ndarray) -> None:
    """Composite ``color`` over ``img`` in place with coverage ``alpha``."""
    for c in range(3):
        chan = img[..., c]
        chan += alpha * (color[c] - chan)


def render_mouth(values: np.ndarray | dict[str, float], size: tuple[int, int] = DEFAULT_SIZE) -> np.ndarray:
    """One frame: an ``(height, width, 3)`` uint8 RGB image of the mouth in pose ``values``."""
    width, height = _check_size(size)
    frame = np.empty((height, width, 3), np.uint8)
    frame[:] = _SKIN.astype(np.uint8)
    g = mouth_geometry(values, width, height)
    # Draw only inside the mouth's bounding box: the rest of the panel is plain skin.
    cols = np.flatnonzero(np.isfinite(g.outer_top))
    if cols.size == 0:
        return frame
    c0, c1 = int(cols[0]), int(cols[-1]) + 1
    top = float(np.min(g.outer_top[c0:c1]))
    bottom = max(float(np.max(g.outer_bottom[c0:c1])), float(np.max(g.tongue_front[1][c0:c1])))
    r0, r1 = max(0, int(np.floor(top)) - 1), min(height, int(np.ceil(bottom)) + 2)
    sl = slice(c0, c1)
    rows = np.arange(r0, r1, dtype=np.float32)[:, None] + 0.5
    img = np.empty((r1 - r0, c1 - c0, 3), np.float32)
    img[:] = _SKIN

    def edge(curve: np.ndarray) -> np.ndarray:
        return curve[None, sl]

    lips = _band(rows, edge(g.outer_top), edge(g.outer_bottom))
    seam = edge(np.nan_to_num(g.seam, nan=-1e6))
    below_seam = np.clip(rows - seam, 0.0, 1.0)
    _over(img, lips * (1.0 - below_seam), _UPPER_LIP)
    _over(img, lips * below_seam, _LOWER_LIP)
    _over(img, np.clip(1.3 - np.abs(rows - seam), 0.0, 1.0) * lips * 0.8, _SEAM)

    if g.aperture_height > 0.3:
        aperture = _band(rows, edge(g.inner_top), edge(g.inner_bottom))
        _over(img, aperture, _CAVITY)
        _over(img, aperture * _band(rows, edge(g.tongue[0]), edge(g.tongue[1])), _TONGUE)
        unit = width / 320.0
        gaps = (np.abs(((g.x[sl] + 0.5) % (11.0 * unit)) - 5.5 * unit) > 4.8 * unit).astype(np.float32)[None, :]
        for teeth in (g.lower_teeth, g.upper_teeth):
            cover = aperture * _band(rows, edge(teeth[0]), edge(teeth[1]))
            _over(img, cover * g.teeth_light, _TEETH)
            _over(img, cover * gaps * 0.7, _TEETH_GAP)
        if g.tongue_front_alpha > 0:
            front = _band(rows, edge(g.tongue_front[0]), edge(g.tongue_front[1]))
            # The tongue between the teeth may cover the lower lip's inner edge too.
            reach = np.clip(aperture + lips * (rows > edge(g.inner_bottom)), 0.0, 1.0)
            _over(img, front * reach * g.tongue_front_alpha, _TONGUE)
    frame[r0:r1, c0:c1] = np.clip(img + 0.5, 0, 255).astype(np.uint8)
    return frame


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = (int(v) for v in size)
    if width < 64 or height < 48 or width % 2 or height % 2:
        raise InputError(f"Preview size must be at least 64x48 pixels with even sides, got {width}x{height}.")
    return width, height


# --- text -----------------------------------------------------------------------------------------


@dataclass
class _TextCache:
    """Label images rendered once per string (per preview call, not a module global)."""

    size: int
    images: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # heavy: matplotlib (~0.2 s); it ships DejaVu Sans, which covers IPA
        from matplotlib import font_manager

        self.font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), self.size)

    def get(self, text: str) -> np.ndarray:
        """White-on-transparent alpha mask of ``text`` (height x width, float32 0..1)."""
        if text not in self.images:
            left, top, right, bottom = self.font.getbbox(text or " ")
            im = Image.new("L", (max(1, right - left + 2), max(1, bottom - top + 2)), 0)
            ImageDraw.Draw(im).text((1 - left, 1 - top), text, fill=255, font=self.font)
            self.images[text] = np.asarray(im, np.float32) / 255.0
        return self.images[text]


def _paste_text(img: np.ndarray, mask: np.ndarray, x: int, y: int, color=(255, 255, 255)) -> None:
    h, w = img.shape[:2]
    mh, mw = mask.shape
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + mw), min(h, y + mh)
    if x1 <= x0 or y1 <= y0:
        return
    m = mask[y0 - y : y1 - y, x0 - x : x1 - x][..., None]
    region = img[y0:y1, x0:x1].astype(np.float32)
    img[y0:y1, x0:x1] = (region * (1 - m) + np.asarray(color, np.float32) * m).astype(np.uint8)


def _frame_labels(tier: Tier | None, times: np.ndarray) -> list[str]:
    if tier is None or len(tier) == 0:
        return [""] * len(times)
    starts = np.array([iv.start for iv in tier], np.float64)
    ends = np.array([iv.end for iv in tier], np.float64)
    idx = np.searchsorted(starts, times, side="right") - 1
    labels = []
    for t, i in zip(times, idx):
        labels.append(tier[i].label if i >= 0 and t < ends[i] else "")
    return labels


def _tier_or_none(alignment: Alignment | None, name: str) -> Tier | None:
    if alignment is None or not alignment.has_tier(name):
        return None
    return alignment.tier(name)


# --- frame streams --------------------------------------------------------------------------------


def iter_frames(panels: Sequence[PreviewPanel], size: tuple[int, int] = DEFAULT_SIZE) -> Iterator[np.ndarray]:
    """Frames of the preview: the panels side by side, each with a title and the current phone/viseme."""
    if not panels:
        raise InputError("A preview needs at least one panel (articulation curves).")
    fps = panels[0].articulation.fps
    if any(abs(p.articulation.fps - fps) > 1e-9 for p in panels):
        raise InputError("Side-by-side panels must share one frame rate; animate both at the same --fps.")
    width, height = _check_size(size)
    n_frames = max(p.articulation.n_frames for p in panels)
    times = np.arange(n_frames) / fps
    text = _TextCache(max(10, int(14 * width / 320)))
    strip = max(18, int(26 * height / 240))
    per_panel = []
    for p in panels:
        order = [p.articulation.channels.index(c) for c in ARTICULATION_PARAMS]
        values = p.articulation.values[:, order]
        phones = _frame_labels(_tier_or_none(p.alignment, "phones"), times)
        visemes = _frame_labels(_tier_or_none(p.alignment, "visemes"), times)
        per_panel.append((values, phones, visemes, text.get(p.title) if p.title else None))
    for i in range(n_frames):
        tiles = []
        for values, phones, visemes, title in per_panel:
            tile = render_mouth(values[min(i, len(values) - 1)], (width, height))
            tile[height - strip :] = _LABEL_BG.astype(np.uint8)
            if title is not None:
                _paste_text(tile, title, 6, 4, (60, 40, 40))
            label = (f"/{phones[i]}/" if phones[i] else "") + (f"  {visemes[i]}" if visemes[i] else "")
            if label:
                mask = text.get(label)
                _paste_text(tile, mask, (width - mask.shape[1]) // 2, height - strip + (strip - mask.shape[0]) // 2)
            tiles.append(tile)
        if len(tiles) > 1:
            sep = np.full((height, 2, 3), 30, np.uint8)
            parts = [tiles[0]]
            for t in tiles[1:]:
                parts.extend([sep, t])
            frame = np.concatenate(parts, axis=1)
            if frame.shape[1] % 2:  # H.264 wants even sides
                frame = np.concatenate([frame, sep[:, :1]], axis=1)
            yield frame
        else:
            yield tiles[0]


# --- encoding -------------------------------------------------------------------------------------


def write_preview(
    path: str | Path,
    panels: PreviewPanel | Sequence[PreviewPanel],
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    *,
    size: tuple[int, int] = DEFAULT_SIZE,
    overwrite: bool = False,
    ffmpeg: str | None = "auto",
) -> Path:
    """Render ``panels`` to ``path``: MP4 (H.264 + AAC audio) when it ends in .mp4 and ffmpeg exists,
    else an animated GIF (silent) at the same stem. Returns the path actually written.

    ``ffmpeg``: "auto" finds the imageio-ffmpeg binary; a path uses that binary; None forces the GIF.
    """
    if isinstance(panels, PreviewPanel):
        panels = [panels]
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise InputError(f"Preview path must end in .mp4 or .gif, got {path.name!r}.")
    exe = find_ffmpeg() if ffmpeg == "auto" else ffmpeg
    if suffix == ".mp4" and exe is None:
        warnings.warn("ffmpeg is not available (install imageio-ffmpeg); writing a silent GIF preview instead.", stacklevel=2)
        path = path.with_suffix(".gif")
        suffix = ".gif"
    check_writable(path, overwrite)
    fps = panels[0].articulation.fps if panels else 30.0
    frames = iter_frames(panels, size)
    if suffix == ".gif":
        return _write_gif(path, frames, fps, overwrite)
    if audio is not None and sample_rate is None:
        raise InputError("Give sample_rate with audio for the preview.")
    return _write_mp4(path, frames, fps, exe, audio, sample_rate, overwrite)


def _write_gif(path: Path, frames: Iterator[np.ndarray], fps: float, overwrite: bool) -> Path:
    # GIF delays are in 1/100 s; keep every frame and let viewers round (the MP4 is the exact preview).
    images = [Image.fromarray(f).quantize(colors=64, method=Image.Quantize.MEDIANCUT) for f in frames]
    with atomic_path(path, overwrite=overwrite, suffix=".gif") as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=max(20, round(1000 / fps)), loop=0)
    return path


def _write_mp4(path: Path, frames: Iterator[np.ndarray], fps: float, exe: str, audio: np.ndarray | None,
               sample_rate: int | None, overwrite: bool) -> Path:
    first = next(frames)
    h, w = first.shape[:2]
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_path(path, overwrite=overwrite, suffix=".mp4"))
        cmd = [exe, "-hide_banner", "-loglevel", "error", "-y",
               "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}", "-r", f"{fps:g}", "-i", "pipe:0"]
        if audio is not None:
            wav_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="visemes-preview-"))
            wav = Path(wav_dir) / "audio.wav"
            sf.write(wav, np.asarray(audio, np.float32), int(sample_rate), subtype="FLOAT")
            cmd += ["-i", str(wav), "-c:a", "aac", "-b:a", "128k"]
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                "-movflags", "+faststart", "-f", "mp4", str(tmp)]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
            try:
                proc.stdin.write(first.tobytes())
                for frame in frames:
                    proc.stdin.write(frame.tobytes())
                proc.stdin.close()
            except BrokenPipeError:
                pass
            except BaseException:
                proc.kill()
                proc.wait()
                raise
            rc = proc.wait()
            if rc != 0:
                err.seek(0)
                msg = err.read().decode("utf-8", "replace").strip()[-800:]
                raise ExportError(f"ffmpeg failed writing {path} (exit {rc}): {msg}. Try a .gif preview instead.")
    return path
