import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _export_samples import sample_alignment, sample_animation
from visemes.core.errors import InputError, OutputExistsError
from visemes.formats.plot import figure_height_in, low_confidence_spans, plot_timeline, render_timeline


def _bundled_dejavu_charmap() -> set[int]:
    import matplotlib
    from matplotlib.ft2font import FT2Font

    return set(FT2Font(str(Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf")).get_charmap())


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def speech_like(seconds=1.1, sr=16000):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 160 * t) * np.exp(-((t - 0.4) / 0.2) ** 2)).astype(np.float32), sr


def test_full_plot_dimensions_and_content(tmp_path):
    audio, sr = speech_like()
    path = plot_timeline(sample_alignment("oculus"), tmp_path / "t.png", audio=audio, sample_rate=sr,
                         curves=sample_animation(), width_px=1200, dpi=100)
    width, height = png_size(path)
    assert width == 1200
    assert height == round(figure_height_in(3, audio=True, curves=True) * 100)
    assert path.stat().st_size > 30_000  # bars, labels, waveform and nine curves, not an empty canvas
    assert [p.name for p in tmp_path.iterdir()] == ["t.png"]


def test_rows_follow_the_inputs_and_spectrogram(tmp_path):
    alignment = sample_alignment()
    bare = plot_timeline(alignment, tmp_path / "bare.png", width_px=800)
    audio, sr = speech_like()
    spec = plot_timeline(alignment, tmp_path / "spec.png", audio=audio, sample_rate=sr, spectrogram=True,
                         width_px=800)
    assert png_size(bare) == (800, round(figure_height_in(3, False, False) * 100))
    assert png_size(spec)[1] == round(figure_height_in(3, True, False) * 100)
    # Stereo input is mixed down, default width grows with duration.
    stereo = np.stack([audio, audio], axis=1)
    auto = plot_timeline(alignment, tmp_path / "auto.png", audio=stereo, sample_rate=sr)
    assert png_size(auto)[0] == 1000


def test_low_confidence_spans():
    spans = low_confidence_spans(sample_alignment(), 0.5)
    assert spans == [(0.10, 0.18, 0.31)]
    assert len(low_confidence_spans(sample_alignment(), 0.95)) == 2
    assert low_confidence_spans(sample_alignment(), 0.1) == []


def test_shading_changes_the_image():
    low = render_timeline(sample_alignment(), confidence_threshold=0.95, width_px=600)
    none = render_timeline(sample_alignment(), confidence_threshold=0.0, width_px=600)
    assert low != none


def test_errors_and_overwrite(tmp_path):
    with pytest.raises(InputError, match="sample_rate"):
        render_timeline(sample_alignment(), audio=np.zeros(100, np.float32))
    with pytest.raises(InputError, match="No curve channel"):
        render_timeline(sample_alignment(), curves=sample_animation(), channels=["jaw_open", "nope"])
    path = tmp_path / "t.png"
    path.write_bytes(b"keep")
    with pytest.raises(OutputExistsError):
        plot_timeline(sample_alignment(), path)
    assert path.read_bytes() == b"keep"


def test_no_pyplot_state():
    # In a fresh interpreter: other tests in this session may import pyplot themselves.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from _export_samples import sample_alignment; "
        "from visemes.formats.plot import render_timeline; render_timeline(sample_alignment(), width_px=400); "
        "assert 'matplotlib.pyplot' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], check=True)


def test_words_in_a_script_without_font_are_shown_as_ipa():
    from visemes.formats.plot import _display_labels, renderable
    from visemes.core.timeline import Alignment, Interval, Tier

    unknown = "\ufdd0\ufdd1"  # Unicode noncharacters: never assigned, so no font has glyphs for them
    words = Tier("words", (Interval(0.1, 0.4, unknown), Interval(0.5, 0.7, "ok")))
    phones = Tier("phones", (Interval(0.1, 0.2, "n"), Interval(0.2, 0.4, "ə"), Interval(0.5, 0.7, "o")))
    a = Alignment((words, phones), 1.0)
    ipa = "nəmʌst̪eː ok"
    # The expectation comes from the DejaVu Sans matplotlib ships (the same on every system, whatever
    # else is installed): it has every glyph of this label, so the labels are drawable.
    assert all(ord(ch) in _bundled_dejavu_charmap() or ch.isspace() for ch in ipa)
    assert renderable(ipa) and not renderable(unknown)
    assert _display_labels(a, a.words) == ["/nə/", "ok"]
    assert _display_labels(a, a.phones) == ["n", "ə", "o"]


def test_fonts_are_judged_by_the_file_matplotlib_draws_with():
    """A family has several files (Debian's fonts-dejavu-extra adds DejaVuSans-ExtraLight.ttf, without
    ː or U+032A); coverage must come from the one a label is drawn with, not the last one listed."""
    from matplotlib import font_manager
    from matplotlib.ft2font import FT2Font

    from visemes.formats.plot import font_files

    files = dict(font_files())
    assert "DejaVu Sans" in files  # matplotlib ships it
    drawn = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans"))  # ax.text's default weight
    assert files["DejaVu Sans"] == drawn
    charmap = FT2Font(drawn).get_charmap()
    assert {ord("ː"), 0x032A, ord("ə")} <= set(charmap)
    # the cuts that are not regular (ExtraLight where installed) are never the file judged
    other_cuts = [f.fname for f in font_manager.fontManager.ttflist
                  if f.name == "DejaVu Sans" and f.weight not in (400, "normal", "regular", "book")]
    assert drawn not in other_cuts


def test_many_curves_are_thinned_to_the_moving_ones():
    from visemes.core.curves import FrameCurves
    from visemes.formats.plot import MAX_DEFAULT_CURVES, default_channels

    values = np.zeros((20, 30))
    values[:, 3] = np.linspace(0, 1, 20)  # the one that moves most
    values[:, 14:] = np.random.default_rng(1).random((20, 16)) * 0.1
    curves = FrameCurves(30, tuple(f"c{i}" for i in range(30)), values)
    picked = default_channels(curves)
    assert len(picked) == MAX_DEFAULT_CURVES and picked[0] == "c3" and picked == sorted(picked, key=lambda c: int(c[1:]))
    assert default_channels(curves.select(["c0", "c1"])) == ["c0", "c1"]
    assert render_timeline(sample_alignment(), curves=curves, width_px=500)[:4] == b"\x89PNG"


def test_time_range_crops_the_drawing_and_sets_the_default_width(tmp_path):
    from visemes.formats.plot import default_width_px, time_range

    audio, sr = speech_like()
    full = render_timeline(sample_alignment("oculus"), audio=audio, sample_rate=sr, curves=sample_animation())
    part_path = plot_timeline(sample_alignment("oculus"), tmp_path / "p.png", audio=audio, sample_rate=sr,
                              curves=sample_animation(), start=0.3, end=0.7)
    width, _ = png_size(part_path)
    assert width == default_width_px(0.4)
    from visemes.core.timeline import Alignment, Interval, Tier

    long = Alignment((Tier("phones", tuple(Interval(i, i + 0.5, "a") for i in range(10))),), 10.0)
    assert default_width_px(5.0) != default_width_px(10.0)
    assert png_size(plot_timeline(long, tmp_path / "l.png", start=2.0, end=7.0))[0] == default_width_px(5.0)
    same_width = render_timeline(sample_alignment("oculus"), audio=audio, sample_rate=sr, curves=sample_animation(),
                                 width_px=width)
    assert part_path.read_bytes() != same_width  # the same canvas shows another span
    assert full != part_path.read_bytes()
    assert time_range(1.1, None, None) == (0.0, 1.1) and time_range(1.1, 0.5, 9.0) == (0.5, 1.1)
    for bad in ((0.7, 0.3), (-1.0, 0.5), (2.0, None)):
        with pytest.raises(InputError, match="plot range"):
            render_timeline(sample_alignment(), start=bad[0], end=bad[1])


def test_cli_plot_range_and_case_insensitive_channels(tmp_path):
    from click.testing import CliRunner

    from visemes.cli.main import cli
    from visemes.formats import json_doc
    from visemes.formats.parts import ExportParts

    doc = json_doc.write(ExportParts(sample_alignment("oculus"), sample_animation()), tmp_path / "t.json")
    out = CliRunner().invoke(cli, ["plot", str(doc), "--channels", "JAW_OPEN,Lip_Close", "--start", "0.2",
                                   "--end", "0.6", "-o", str(tmp_path / "t.png")])
    assert out.exit_code == 0, out.output
    from visemes.formats.plot import default_width_px

    assert png_size(tmp_path / "t.png")[0] == default_width_px(0.4)
