"""Every export format at NTSC frame rates (29.97, 23.976), and per-output failures that do not stop the
other outputs (the write path of write_all, AnimationResult.save, the animate CLI and animate-corpus).

Frame-based formats are checked against an independent computation of their frame times; time-based
formats must not depend on the frame rate at all (the same bytes as at 30 fps)."""

from __future__ import annotations

import dataclasses
import json
import math
import subprocess
from types import MappingProxyType

import numpy as np
import pytest
import soundfile as sf
from _export_samples import sample_alignment, sample_animation

from visemes import formats as exports
from visemes.core.errors import ExportError, PartialExportError
from visemes.core.media import find_ffmpeg
from visemes.formats import FORMATS, ExportParts, curves_csv, json_doc, livelink, write_all

RATE = 16000
FRAME_FORMATS = {"json", "csv", "livelink", "oculus", "azure-blend", "moho"}
TIME_FORMATS = {"textgrid", "rhubarb-tsv", "rhubarb-json", "rhubarb-xml", "audacity", "azure-visemes", "wav"}


def _parts(fps: float) -> ExportParts:
    audio = (0.3 * np.sin(2 * np.pi * 200 * np.arange(int(1.1 * RATE)) / RATE)).astype(np.float32)
    return ExportParts(sample_alignment("rhubarb"), sample_animation(fps), audio, RATE)


def test_the_two_lists_cover_every_format():
    assert FRAME_FORMATS | TIME_FORMATS == set(FORMATS)


@pytest.mark.parametrize("fps", [29.97, 23.976])
def test_every_format_writes_correctly_at_an_ntsc_rate(tmp_path, fps):
    parts = _parts(fps)
    paths = dict(zip(FORMATS, write_all(parts, tmp_path / "ntsc", list(FORMATS), stem="x")))
    whole = dict(zip(FORMATS, write_all(_parts(30.0), tmp_path / "whole", list(FORMATS), stem="x")))
    anim = parts.animation
    frame_times = np.arange(anim.n_frames) / fps

    for name in TIME_FORMATS:  # times in seconds (or samples): the frame rate must not show
        # (Rhubarb's metadata names the WAV written beside it, in the other folder)
        ours = paths[name].read_bytes().replace(str(tmp_path / "ntsc").encode(), str(tmp_path / "whole").encode())
        assert ours == whole[name].read_bytes(), name

    back = json_doc.read(paths["json"]).animation
    assert back.fps == fps
    np.testing.assert_allclose(back.visemes.values, anim.visemes.values, atol=5e-5)  # 4 decimals in the file
    assert back.visemes.n_frames == anim.n_frames

    csv_back = curves_csv.read_animation_csv(paths["csv"])
    assert abs(csv_back.fps - fps) < 1e-9
    np.testing.assert_allclose(csv_back.blendshapes.times, frame_times, atol=1e-6)
    np.testing.assert_allclose(csv_back.blendshapes.values, anim.blendshapes.values, atol=1e-5)

    oculus_back = curves_csv.read_curves_csv(paths["oculus"])
    assert abs(oculus_back.fps - fps) < 1e-9
    np.testing.assert_allclose(oculus_back.values, anim.visemes.values, atol=1e-5)

    rows = paths["livelink"].read_text(encoding="utf-8").splitlines()
    assert len(rows) == 1 + anim.n_frames and rows[1].startswith("00:00:00:00")
    ll = livelink.read_livelink_csv(paths["livelink"], fps=fps)
    np.testing.assert_allclose(ll.select(("jawOpen",)).values[:, 0], anim.blendshapes.select(("jawOpen",)).values[:, 0],
                               atol=1e-3)

    # Azure frames are always 60 fps: the curves interpolated at k/60 from their own frame times
    blend = np.array(json.loads(paths["azure-blend"].read_text(encoding="utf-8"))["BlendShapes"])
    t60 = np.arange(math.floor(parts.alignment.duration * 60 + 1e-9) + 1) / 60
    jaw = anim.blendshapes.channels.index("jawOpen")
    azure_jaw = [c.lower() for c in exports.azure.AZURE_BLENDSHAPES].index("jawopen")
    np.testing.assert_allclose(blend[:, azure_jaw], np.round(np.interp(t60, frame_times, anim.blendshapes.values[:, jaw]), 4),
                               atol=1e-4)

    # Moho: each cue's switch frame is 1 + floor(fps * start), from the cue times the Rhubarb TSV holds
    tsv = [line.split("\t") for line in paths["rhubarb-tsv"].read_text(encoding="utf-8").splitlines() if line.strip()]
    lines = paths["moho"].read_text(encoding="utf-8").split("\n")
    assert lines[0] == "MohoSwitch1"
    frames = [int(line.split()[0]) for line in lines[1:] if line.strip()]
    expected = []
    for start, _shape in tsv[:-1]:  # the last TSV line is the closing rest
        f = 1 + math.floor(fps * float(start))
        if not expected or f != expected[-1]:
            expected.append(f)
    assert frames[:-1] == expected
    assert frames[-1] in (1 + math.floor(fps * float(tsv[-1][0])), expected[-1] + 1)
    assert frames != [int(x.split()[0]) for x in whole["moho"].read_text(encoding="utf-8").split("\n")[1:] if x.strip()] \
        or fps == 30.0

@pytest.mark.skipif(find_ffmpeg() is None, reason="imageio-ffmpeg binary not installed")
def test_the_preview_video_runs_at_the_ntsc_rate(tmp_path):
    from visemes.formats.preview import PreviewPanel, write_preview

    anim = sample_animation(29.97, duration=2.0)
    path = write_preview(tmp_path / "p.mp4", [PreviewPanel(anim.articulation, "t", sample_alignment())], size=(64, 48))
    probe = subprocess.run([find_ffmpeg(), "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    assert "29.97 fps" in probe, probe


def _failing(name: str, monkeypatch) -> None:
    def broken(parts, path, *, overwrite=False):
        raise ExportError(f"{name} cannot hold this take (test)")
    table = dict(FORMATS)
    table[name] = dataclasses.replace(FORMATS[name], write=broken)
    monkeypatch.setattr(exports, "FORMATS", MappingProxyType(table))


def test_one_format_failing_leaves_the_others_written(tmp_path, monkeypatch):
    _failing("livelink", monkeypatch)
    names = ["json", "livelink", "csv", "rhubarb-tsv"]
    with pytest.raises(PartialExportError) as info:
        write_all(_parts(29.97), tmp_path, names, stem="x")
    assert list(info.value.failed) == ["livelink"] and "cannot hold this take" in info.value.failed["livelink"]
    assert sorted(p.name for p in info.value.written) == ["x.csv", "x.json", "x.rhubarb.tsv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.csv", "x.json", "x.rhubarb.tsv"]
    assert "Could not write livelink" in str(info.value) and "x.json" in str(info.value)


def test_a_writer_bug_is_reported_as_such_and_costs_nothing_else(tmp_path, monkeypatch):
    def buggy(parts, path, *, overwrite=False):
        raise ZeroDivisionError("division by zero")
    table = dict(FORMATS)
    table["moho"] = dataclasses.replace(FORMATS["moho"], write=buggy)
    monkeypatch.setattr(exports, "FORMATS", MappingProxyType(table))
    with pytest.raises(PartialExportError) as info:
        write_all(_parts(23.976), tmp_path, ["moho", "textgrid"], stem="x")
    assert info.value.failed == {"moho": "ZeroDivisionError: division by zero"}
    assert (tmp_path / "x.TextGrid").is_file()


def _wav_and_grid(tmp_path):
    from visemes.core.textgrid import write_textgrid

    audio = tmp_path / "take.wav"
    sf.write(str(audio), (0.3 * np.sin(2 * np.pi * 200 * np.arange(int(1.1 * RATE)) / RATE)).astype(np.float32), RATE)
    al = sample_alignment("rhubarb")
    grid = tmp_path / "take.TextGrid"
    write_textgrid(al, grid, tiers=("words", "phones"))  # the animation derives its own visemes
    return audio, grid


def test_save_writes_the_others_and_the_summary_names_the_failure(tmp_path, monkeypatch):
    from visemes.pipeline.animator import animate

    audio, grid = _wav_and_grid(tmp_path)
    result = animate(audio, alignment=grid, lang="en-US", fps=29.97)
    _failing("oculus", monkeypatch)
    out = tmp_path / "out"
    with pytest.raises(PartialExportError) as info:
        result.save(out, ["json", "oculus", "livelink", "textgrid"], stem="take")
    assert set(info.value.failed) == {"oculus"}
    assert sorted(p.name for p in out.iterdir()) == ["take.TextGrid", "take.json", "take.livelink.csv", "take.summary.json"]
    summary = json.loads((out / "take.summary.json").read_text(encoding="utf-8"))
    assert summary["fps"] == 29.97 and set(summary["failed_outputs"]) == {"oculus"}
    assert "take.oculus.csv" not in summary["outputs"]


def test_the_animate_command_at_29_97_writes_every_format(tmp_path):
    from visemes.cli.main import main

    audio, grid = _wav_and_grid(tmp_path)
    out = tmp_path / "out"
    assert main(["animate", str(audio), "--alignment", str(grid), "--lang", "en-US", "--fps", "29.97",
                 "--format", "all", "-o", str(out)]) == 0
    for fmt in FORMATS.values():
        assert (out / f"take{fmt.suffix}").is_file(), fmt.name
    assert json.loads((out / "take.summary.json").read_text(encoding="utf-8"))["fps"] == 29.97


def test_the_animate_command_exits_1_with_the_other_formats_written(tmp_path, monkeypatch, capsys):
    from visemes.cli.main import main

    audio, grid = _wav_and_grid(tmp_path)
    _failing("livelink", monkeypatch)
    out = tmp_path / "out"
    rc = main(["animate", str(audio), "--alignment", str(grid), "--lang", "en-US", "--fps", "23.976",
               "--format", "json,livelink,rhubarb", "-o", str(out)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "Could not write livelink" in err
    assert (out / "take.json").is_file() and (out / "take.rhubarb.tsv").is_file()
    assert not (out / "take.livelink.csv").exists()


def test_animate_corpus_keeps_the_written_formats_and_flags_the_file(tmp_path, monkeypatch):
    from visemes.pipeline.jobs import AnimateOptions, animate_corpus

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    audio, grid = _wav_and_grid(corpus)
    _failing("livelink", monkeypatch)
    report = animate_corpus(corpus, tmp_path / "out", AnimateOptions(lang="en-US", fps=29.97,
                                                                      formats=("json", "livelink")), jobs=1)
    assert len(report.done) == 1 and not report.failed
    outcome = report.done[0]
    assert "export_failed" in outcome.qa_flags
    assert (tmp_path / "out" / "take" / "visemes.json").is_file()
    summary = json.loads((tmp_path / "out" / "take" / "summary.json").read_text(encoding="utf-8"))
    assert set(summary["failed_outputs"]) == {"livelink"}
