"""Timeline plot: audio (waveform or spectrogram), word/phone/viseme tiers as labelled bars, mouth curves
below, and low-confidence regions shaded. Written to PNG atomically.

Uses matplotlib's object API (``Figure`` + Agg canvas), never ``pyplot``: no global figure registry, no
rcParams changes, safe in servers and threads.
"""

from __future__ import annotations

import functools
import io
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from visemes.core.atomic import atomic_write_bytes, check_writable
from visemes.core.curves import FrameCurves, MouthAnimation
from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.core.vocabulary import VISEME_SETS, classes

#: Inches per row kind (the figure height is their sum plus margins).
AUDIO_IN, TIER_IN, CURVES_IN = 1.5, 0.5, 2.3
TOP_IN, BOTTOM_IN = 0.45, 0.55
SILENCE_CLASSES = frozenset({"sil", "X", "0"})
#: Most intervals (all tiers together) drawn in one plot: about an hour of speech; at the widest image
#: (8000 px) that is already under a pixel per phone.
MAX_PLOT_INTERVALS = 100_000
LOW_CONFIDENCE_COLOR = "#d62728"
#: Fonts tried in order for labels (those installed are used as matplotlib fallbacks): DejaVu covers
#: Latin, Greek, Cyrillic and IPA; the Noto families cover the scripts of the language packs.
PREFERRED_FONTS: tuple[str, ...] = (
    "DejaVu Sans", "Noto Sans", "Noto Sans Devanagari", "Noto Sans Bengali", "Noto Sans Tamil",
    "Noto Sans Malayalam", "Noto Sans Thai", "Noto Sans Arabic", "Noto Sans Hebrew", "Noto Sans CJK SC",
    "Noto Sans CJK JP", "Noto Sans CJK KR", "Noto Sans Georgian", "Noto Sans Armenian", "Noto Sans Ethiopic",
)


@functools.lru_cache(maxsize=1)
def font_files() -> tuple[tuple[str, str], ...]:
    """``(family, file)`` for each installed family of PREFERRED_FONTS: the file matplotlib draws that
    family's labels with (regular weight and style). A family has several files (Debian's
    fonts-dejavu-extra adds DejaVuSans-ExtraLight.ttf, which lacks most IPA): only this one counts."""
    from matplotlib import font_manager  # heavy: matplotlib (~0.4 s), only when drawing

    found = []
    for name in PREFERRED_FONTS:
        props = font_manager.FontProperties(family=name, style="normal", weight="normal", stretch="normal")
        try:
            found.append((name, font_manager.findfont(props, fallback_to_default=False)))
        except ValueError:  # not installed
            continue
    return tuple(found)


@functools.lru_cache(maxsize=1)
def _fonts() -> tuple[tuple[str, ...], frozenset[int]]:
    """Installed fonts from PREFERRED_FONTS and the code points their drawing files have (read once)."""
    from matplotlib.ft2font import FT2Font  # heavy: matplotlib (~0.4 s), only when drawing

    names: list[str] = []
    covered: set[int] = set()
    for name, path in font_files():
        try:
            covered.update(FT2Font(path).get_charmap())
        except (OSError, RuntimeError):
            continue
        names.append(name)
    return tuple(names) or ("DejaVu Sans",), frozenset(covered)


def renderable(label: str) -> bool:
    """True when the installed fonts have a glyph for every character of ``label``."""
    covered = _fonts()[1]
    return all(ord(ch) in covered or ch.isspace() for ch in label)


def _display_labels(alignment: Alignment, tier: Tier) -> list[str]:
    """Labels to draw. A word whose script no installed font covers is shown as its IPA phones in
    slashes (readable everywhere) instead of a row of empty boxes."""
    labels = list(tier.labels)
    if tier.name != "words" or not alignment.has_tier("phones"):
        return labels
    for i, iv in enumerate(tier):
        if not renderable(iv.label):
            phones = "".join(p.label for p in alignment.phones_of(iv))
            if phones:
                labels[i] = f"/{phones}/"
    return labels


def default_width_px(duration: float) -> int:
    """Wide enough that a 60-80 ms phone keeps a readable label, within sane bounds (1000-8000 px)."""
    return int(np.clip(duration * 320.0, 1000, 8000))


def figure_height_in(n_tiers: int, audio: bool, curves: bool) -> float:
    return TOP_IN + BOTTOM_IN + n_tiers * TIER_IN + (AUDIO_IN if audio else 0.0) + (CURVES_IN if curves else 0.0)


def low_confidence_spans(alignment: Alignment, threshold: float) -> list[tuple[float, float, float]]:
    """(start, end, confidence) of the phones whose ``confidence`` attr is below ``threshold``."""
    if not alignment.has_tier("phones"):
        return []
    spans = []
    for iv in alignment.phones:
        conf = iv.attrs.get("confidence")
        if isinstance(conf, (int, float)) and not isinstance(conf, bool) and conf < threshold:
            spans.append((iv.start, iv.end, float(conf)))
    return spans


def _tier_order(alignment: Alignment) -> list[Tier]:
    preferred = ["words", "phones", "visemes"]
    named = [alignment.tier(n) for n in preferred if alignment.has_tier(n)]
    return named + [t for t in alignment.tiers if t.name not in preferred]


def _palette(tier: Tier, viseme_set: str | None) -> dict[str, Any]:
    from matplotlib import colormaps  # heavy: matplotlib (~0.4 s), only when drawing

    cmap = colormaps["tab20"]
    colors = [cmap(i) for i in range(20) if i not in (14, 15)]  # tab20's greys look like silence
    labels: Sequence[str]
    if tier.name == "visemes" and viseme_set:
        labels = classes(viseme_set) if viseme_set in VISEME_SETS else sorted(set(tier.labels))
    else:
        labels = sorted(set(tier.labels))
    return {lab: colors[i % len(colors)] for i, lab in enumerate(labels)}


def _draw_tier(ax: Any, tier: Tier, labels: list[str], px_per_s: float, viseme_set: str | None) -> None:
    colors = _palette(tier, viseme_set) if tier.name == "visemes" else {}
    fontsize = 9 if tier.name == "words" else 8
    family = list(_fonts()[0])
    bars, faces = [], []
    for i, (iv, text) in enumerate(zip(tier, labels)):
        if tier.name == "visemes":
            face = "#e6e6e6" if iv.label in SILENCE_CLASSES else colors.get(iv.label, "#9ecae1")
        else:
            face = ("#c6dbef", "#9ecae1")[i % 2] if tier.name == "words" else ("#fdd0a2", "#fdae6b")[i % 2]
        bars.append((iv.start, iv.duration))
        faces.append(face)
        # Only label bars wide enough to hold the text (about 0.62 em per character).
        if iv.duration * px_per_s >= 0.62 * fontsize * len(text) * 1.4 + 2:
            ax.text(iv.midpoint, 0.5, text, ha="center", va="center", fontsize=fontsize, clip_on=True,
                    fontfamily=family, zorder=3)
    if bars:  # one collection per tier: an artist per bar took minutes for long files
        ax.broken_barh(bars, (0.12, 0.76), facecolors=faces, edgecolors="#555555", linewidth=0.5)
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.set_ylabel(tier.name, rotation=0, ha="right", va="center", fontsize=9)


def _draw_audio(ax: Any, audio: np.ndarray, sr: int, spectrogram: bool, width_px: int, t0: float = 0.0) -> None:
    """``audio`` starting at ``t0`` seconds (a range of a longer recording)."""
    t_end = t0 + len(audio) / sr
    if spectrogram:
        nfft = int(2 ** np.ceil(np.log2(0.025 * sr)))
        from matplotlib import colormaps  # heavy: matplotlib (~0.4 s), only when drawing

        # digital silence is -inf dB, which matplotlib masks as "bad" (drawn white): paint it as the floor
        cmap = colormaps["magma"].with_extremes(bad=colormaps["magma"](0.0))
        with np.errstate(divide="ignore"):
            power, _, _, image = ax.specgram(audio, NFFT=nfft, Fs=sr, noverlap=nfft * 3 // 4, cmap=cmap,
                                             scale="dB", mode="psd", xextent=(t0, t_end))
        top = 10.0 * np.log10(float(power.max()) + 1e-20)
        image.set_clim(top - 70.0, top)  # 70 dB of range: speech stands out from the noise floor
        ax.set_ylim(0, min(sr / 2, 8000))
        ax.set_ylabel("Hz", fontsize=9)
    else:
        # Min/max envelope per pixel column: as faithful as every sample, and fast for long files.
        cols = max(1, min(len(audio), width_px))
        edges = np.linspace(0, len(audio), cols + 1).astype(int)
        lo = np.minimum.reduceat(audio, edges[:-1])
        hi = np.maximum.reduceat(audio, edges[:-1])
        times = t0 + edges[:-1] / sr
        ax.fill_between(times, lo, hi, color="#4c72b0", linewidth=0, step="post")
        peak = float(np.max(np.abs(audio))) or 1.0
        ax.set_ylim(-1.05 * peak, 1.05 * peak)
        ax.set_yticks([])
        ax.set_ylabel("audio", rotation=0, ha="right", va="center", fontsize=9)
    ax.set_xlim(t0, t_end)


def time_range(duration: float, start: float | None, end: float | None) -> tuple[float, float]:
    """The drawn span ``[start, end]`` (defaults: 0 and ``duration``), checked."""
    t0 = 0.0 if start is None else float(start)
    t1 = duration if end is None else min(float(end), duration)
    if not (np.isfinite(t0) and np.isfinite(t1)) or t0 < 0 or t1 <= t0:
        raise InputError(f"The plot range must satisfy 0 <= start < end (and start before the end of the "
                         f"timeline, {duration:.2f} s); got start={start}, end={end}.")
    return t0, t1


#: Curves drawn when none are picked: beyond this the legend no longer fits beside the plot.
MAX_DEFAULT_CURVES = 12


def default_channels(curves: FrameCurves) -> list[str]:
    """All channels, or the MAX_DEFAULT_CURVES that move most (largest std), in their own order."""
    if len(curves.channels) <= MAX_DEFAULT_CURVES:
        return list(curves.channels)
    spread = curves.values.std(axis=0)
    keep = set(np.argsort(-spread, kind="stable")[:MAX_DEFAULT_CURVES].tolist())
    return [c for i, c in enumerate(curves.channels) if i in keep]


def _draw_curves(ax: Any, curves: FrameCurves, channels: Sequence[str] | None) -> None:
    names = list(channels) if channels else default_channels(curves)
    times = curves.times
    for name in names:
        ax.plot(times, curves.channel(name), linewidth=1.1, label=name)
    ax.set_ylim(-0.02, 1.02)
    shown = "" if len(names) == len(curves.channels) else f" ({len(names)} of {len(curves.channels)})"
    ax.set_ylabel("mouth" + shown, fontsize=9)
    ax.tick_params(labelsize=8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False, borderaxespad=0.0)
    ax.grid(axis="y", alpha=0.3)


def render_timeline(
    alignment: Alignment,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    curves: MouthAnimation | FrameCurves | None = None,
    channels: Sequence[str] | None = None,
    spectrogram: bool = False,
    confidence_threshold: float = 0.5,
    title: str | None = None,
    width_px: int | None = None,
    dpi: int = 100,
    start: float | None = None,
    end: float | None = None,
) -> bytes:
    """The timeline figure as PNG bytes (see :func:`plot_timeline`)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # heavy: matplotlib (~0.4 s), only when drawing
    from matplotlib.collections import PolyCollection  # heavy: matplotlib (~0.4 s), only when drawing
    from matplotlib.figure import Figure  # heavy: matplotlib (~0.4 s), only when drawing

    if audio is not None:
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim == 2:
            audio = audio.mean(axis=1)
        if audio.ndim != 1 or audio.size == 0 or not sample_rate:
            raise InputError("Give audio as a non-empty mono (or frames x channels) array with its sample_rate.")
    frame_curves = curves.articulation if isinstance(curves, MouthAnimation) else curves
    if channels and frame_curves is not None:
        channels = list(frame_curves.resolve(list(channels)))  # case-insensitive: JawOpen -> jawOpen
    tiers = _tier_order(alignment)
    duration = alignment.duration
    if audio is not None:
        duration = max(duration, len(audio) / sample_rate)  # type: ignore[operator]
    if frame_curves is not None:
        duration = max(duration, float(frame_curves.times[-1]))
    t0, t1 = time_range(duration, start, end)
    if audio is not None:  # only the samples in range: faster, and the envelope uses the full width
        audio = audio[int(np.floor(t0 * sample_rate)):int(np.ceil(t1 * sample_rate))]  # type: ignore[operator]
        if audio.size == 0:
            raise InputError(f"The audio has no samples between {t0:.2f} and {t1:.2f} s.")
    # bars cut at the range's edges, so a cut word's label sits in its visible part
    check_plot_size(sum(1 for t in tiers for iv in t if iv.end > t0 and iv.start < t1))
    tiers = [Tier(t.name, tuple(Interval(max(iv.start, t0), min(iv.end, t1), iv.label, iv.attrs)
                                for iv in t if iv.end > t0 and iv.start < t1)) for t in tiers]
    width_px = int(width_px or default_width_px(t1 - t0))
    height_in = figure_height_in(len(tiers), audio is not None, frame_curves is not None)
    fig = Figure(figsize=(width_px / dpi, height_in), dpi=dpi)
    FigureCanvasAgg(fig)
    ratios = ([AUDIO_IN] if audio is not None else []) + [TIER_IN] * len(tiers) + (
        [CURVES_IN] if frame_curves is not None else [])
    left_in, right_in = 0.9, 1.5 if frame_curves is not None else 0.3
    fig.subplots_adjust(
        left=left_in / fig.get_figwidth(), right=1 - right_in / fig.get_figwidth(),
        top=1 - TOP_IN / height_in, bottom=BOTTOM_IN / height_in, hspace=0.08,
    )
    axes = fig.subplots(len(ratios), 1, sharex=True, gridspec_kw={"height_ratios": ratios}, squeeze=False)[:, 0]
    plot_width_px = width_px - (left_in + right_in) * dpi
    px_per_s = plot_width_px / (t1 - t0)
    k = 0
    if audio is not None:
        _draw_audio(axes[0], audio, int(sample_rate), spectrogram, int(plot_width_px),  # type: ignore[arg-type]
                    t0=int(np.floor(t0 * sample_rate)) / sample_rate)  # type: ignore[operator]
        k = 1
    viseme_set = alignment.meta.get("viseme_set")
    for tier in tiers:
        labels = _display_labels(alignment, tier)
        _draw_tier(axes[k], tier, labels, px_per_s, viseme_set if isinstance(viseme_set, str) else None)
        k += 1
    if frame_curves is not None:
        _draw_curves(axes[k], frame_curves, channels)
    spans = low_confidence_spans(alignment, confidence_threshold)
    shaded = _merge_spans([sp for sp in spans if sp[1] > t0 and sp[0] < t1], (t1 - t0) / max(plot_width_px, 1.0))
    for ax in axes:
        if shaded:
            # Above bars and spectrogram, below the labels (text is drawn at zorder 3); x in data, y the
            # axes' full height (what axvspan does, as one collection instead of an artist per span).
            boxes = [[(a, 0.0), (a, 1.0), (b, 1.0), (b, 0.0)] for a, b in shaded]
            ax.add_collection(PolyCollection(boxes, facecolors=LOW_CONFIDENCE_COLOR, alpha=0.2, linewidths=0,
                                             zorder=2, transform=ax.get_xaxis_transform()), autolim=False)
        ax.set_xlim(t0, t1)
    from matplotlib.ticker import MaxNLocator  # heavy: matplotlib (~0.4 s), only when drawing

    axes[-1].xaxis.set_major_locator(MaxNLocator(nbins=max(4, int(plot_width_px // 90)), steps=[1, 2, 2.5, 5, 10]))
    axes[-1].set_xlabel("time (s)", fontsize=9)
    axes[-1].tick_params(axis="x", labelsize=8)
    heading = title or _default_title(alignment)
    if spans:
        heading += f"   |   shaded: {len(spans)} phone(s) with confidence < {confidence_threshold:g}"
    fig.suptitle(heading, x=left_in / fig.get_figwidth(), ha="left", fontsize=10, y=1 - 0.12 / height_in, va="top")
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Glyph .* missing from")  # scripts the font lacks
        fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _merge_spans(spans: Sequence[tuple[float, float, float]], pixel_s: float) -> list[tuple[float, float]]:
    """(start, end) of the spans, neighbours closer than a pixel joined: at most one box per pixel."""
    merged: list[list[float]] = []
    for start, end, _ in sorted(spans):
        if merged and start <= merged[-1][1] + pixel_s:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def check_plot_size(n: int) -> None:
    """Refuse ``n`` intervals when too many to draw legibly (and too slow to draw), saying what to do."""
    if n > MAX_PLOT_INTERVALS:
        raise InputError(
            f"The plotted range holds {n:,} intervals; a timeline plot draws at most {MAX_PLOT_INTERVALS:,} (about "
            "an hour of speech; beyond that nothing is legible). Plot a part (--start/--end, or start=/end=)."
        )


def _default_title(alignment: Alignment) -> str:
    bits = [f"{alignment.duration:.2f} s"]
    for key in ("lang", "viseme_set", "aligner"):
        if alignment.meta.get(key):
            bits.append(f"{key}={alignment.meta[key]}")
    conf = alignment.meta.get("confidence")
    if isinstance(conf, (int, float)):
        bits.append(f"confidence={conf:.2f}")
    return "  ".join(bits)


def plot_timeline(
    alignment: Alignment,
    path: str | os.PathLike,
    *,
    audio: np.ndarray | None = None,
    sample_rate: int | None = None,
    curves: MouthAnimation | FrameCurves | None = None,
    channels: Sequence[str] | None = None,
    spectrogram: bool = False,
    confidence_threshold: float = 0.5,
    title: str | None = None,
    width_px: int | None = None,
    dpi: int = 100,
    overwrite: bool = False,
    start: float | None = None,
    end: float | None = None,
) -> Path:
    """Write the timeline PNG of ``alignment`` to ``path`` and return the path.

    ``audio``/``sample_rate``: drawn on top as a waveform, or a spectrogram with ``spectrogram=True``.
    ``curves``: a MouthAnimation (its articulation curves are drawn) or any FrameCurves;
    ``channels`` picks some of them. Phones whose ``confidence`` attr is below ``confidence_threshold``
    are shaded across every row. ``width_px`` defaults to ~320 px per second (1000..8000); the height
    follows from the rows (:func:`figure_height_in` inches at ``dpi``). ``start``/``end`` (seconds) draw
    only that span of the timeline (the default width then follows the span).
    """
    check_writable(path, overwrite)  # fail before the (slow) rendering
    png = render_timeline(
        alignment, audio=audio, sample_rate=sample_rate, curves=curves, channels=channels,
        spectrogram=spectrogram, confidence_threshold=confidence_threshold, title=title,
        width_px=width_px, dpi=dpi, start=start, end=end,
    )
    return atomic_write_bytes(path, png, overwrite=overwrite)
