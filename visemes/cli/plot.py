"""``visemes plot``: a timeline PNG of an alignment file, optionally with audio and mouth curves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from visemes import formats as exports
from visemes.core.atomic import check_writable
from visemes.core.audio import load_audio
from visemes.core.errors import ExportError, InputError
from visemes.formats import curves_csv, livelink
from visemes.formats.plot import plot_timeline


def load_alignment_file(path: Path) -> tuple[Any, Any]:
    """(Alignment, MouthAnimation or None) from our JSON (result or alignment) or a Praat TextGrid."""
    fmt = exports.format_for_path(path)
    if fmt is None or fmt.name not in ("json", "textgrid", "rhubarb-json", "rhubarb-tsv", "audacity"):
        raise InputError(f"Cannot plot {path.name}: give a visemes .json, a Praat .TextGrid, or a Rhubarb result.")
    data = fmt.read(path)  # type: ignore[misc]
    if isinstance(data, exports.ExportParts):
        if data.alignment is None:
            raise InputError(f"{path} holds curves but no alignment; pass it with --curves and an alignment file.")
        return data.alignment, data.animation
    return data, None


def load_curves_file(path: Path) -> Any:
    """Mouth curves to draw: our JSON or CSV (articulation), a Live Link Face CSV (the moving mouth
    blendshapes), an Oculus CSV, or any per-frame CSV with a time column (every channel)."""
    fmt = exports.format_for_path(path)
    name = fmt.name if fmt else None
    if name == "json":
        parts = exports.json_doc.read(path)
        if parts.animation is None:
            raise InputError(f"{path} holds no curves (no 'animation' record); give --curves a result of "
                             "`visemes text2visemes`/`visemes animate`, or a per-frame CSV.")
        return parts.animation
    if name == "livelink":
        take = livelink.read_livelink_csv(path)
        moving = [c for c in take.channels if float(abs(take.channel(c)).max()) > 1e-6]
        return take.select(moving or list(take.channels[:1]))
    if name in ("csv", "oculus"):
        try:
            return curves_csv.read_animation_csv(path)
        except ExportError:
            return curves_csv.read_curves_csv(path)  # a generic per-frame CSV: every column
    raise InputError(f"Cannot read curves from {path.name}: give a visemes .json or a per-frame .csv.")


@click.command("plot")
@click.argument("alignment_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--audio", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Audio of the alignment (wav/flac/ogg, or a video: its audio track), drawn on top as a waveform.")
@click.option("--spectrogram", is_flag=True, help="Draw the audio as a spectrogram instead of a waveform.")
@click.option("--curves", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="Mouth curves to draw below the tiers: a visemes .json/.csv, a Live Link Face CSV or any "
                   "per-frame CSV (default: the curves inside ALIGNMENT_FILE, if any).")
@click.option("--channels", default=None, metavar="LIST", help="Comma-separated curve channels to draw (default all).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Shade phones whose confidence is below this.")
@click.option("--width", type=click.IntRange(200, 20000), default=None, metavar="PX",
              help="Image width in pixels (default: about 320 per second).")
@click.option("--start", type=float, default=None, metavar="S", help="Draw from this time (seconds; default 0).")
@click.option("--end", type=float, default=None, metavar="S", help="Draw up to this time (seconds; default the end).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="OUT.png")
@click.option("--overwrite", is_flag=True, help="Replace OUT.png if it exists.")
def plot(alignment_file: Path, audio: Path | None, spectrogram: bool, curves: Path | None, channels: str | None,
         threshold: float, width: int | None, start: float | None, end: float | None, output: Path,
         overwrite: bool) -> None:
    """Draw ALIGNMENT_FILE (.json from visemes, or a Praat .TextGrid) as a timeline PNG.

    Rows: the audio (with --audio), one labelled bar row per tier (words, phones, visemes ...), and the
    mouth curves. Phones with low aligner confidence are shaded red.

    \b
    Example:
      visemes plot take.TextGrid --audio take.wav --curves take.json -o take.png
    """
    if output.suffix.lower() != ".png":
        raise InputError(f"The plot is a PNG image; name the output OUT.png (got {output.name}).")
    check_writable(output, overwrite)
    alignment, animation = load_alignment_file(alignment_file)
    drawn = load_curves_file(curves) if curves is not None else animation
    samples = sample_rate = None
    if audio is not None:
        samples, sample_rate = load_audio(audio)
    picked = [c.strip() for c in channels.split(",") if c.strip()] if channels else None
    path = plot_timeline(alignment, output, audio=samples, sample_rate=sample_rate, curves=drawn, channels=picked,
                         spectrogram=spectrogram, confidence_threshold=threshold, width_px=width, overwrite=overwrite,
                         start=start, end=end)
    click.echo(f"{path}: {', '.join(alignment.tier_names)} over {alignment.duration:.2f} s")
