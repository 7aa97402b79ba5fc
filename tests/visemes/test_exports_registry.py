import json

import numpy as np
import pytest
import soundfile

from _export_samples import sample_alignment, sample_animation
from visemes.core.errors import ExportError, InputError, OutputExistsError
from visemes.formats import FORMATS, ExportParts, as_parts, format_for_path, parse_formats, write_all, write_one

WITHOUT_AUDIO = [name for name in FORMATS if name != "wav"]


def full_parts() -> ExportParts:
    audio = (0.1 * np.sin(np.linspace(0, 200, 16000))).astype(np.float32)
    return ExportParts(sample_alignment(), sample_animation(), audio=audio, sample_rate=16000)


def test_write_all_writes_every_format_and_readers_read_them(tmp_path):
    parts = full_parts()
    paths = write_all(parts, tmp_path, list(FORMATS), stem="take")
    assert [p.name for p in paths] == [f"take{f.suffix}" for f in FORMATS.values()]
    assert len({p.name for p in paths}) == len(FORMATS)  # suffixes never collide
    assert all(p.stat().st_size > 0 for p in paths)
    for fmt, path in zip(FORMATS.values(), paths):
        if fmt.read is not None:
            assert type(fmt.read(path)).__name__ == fmt.reads, fmt.name
    audio, sr = soundfile.read(tmp_path / "take.wav", dtype="float32")
    assert sr == 16000 and np.allclose(audio, parts.audio, atol=1 / 16000)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in paths)  # no temp files left
    # Rhubarb's metadata names the audio written alongside, by absolute path, as Rhubarb does.
    sound = json.loads((tmp_path / "take.rhubarb.json").read_text(encoding="utf-8"))["metadata"]["soundFile"]
    assert sound == str((tmp_path / "take.wav").resolve())


def test_a_refused_run_writes_nothing(tmp_path):
    (tmp_path / "take.TextGrid").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        write_all(full_parts(), tmp_path, "json,textgrid,csv", stem="take")
    assert [p.name for p in tmp_path.iterdir()] == ["take.TextGrid"]
    written = write_all(full_parts(), tmp_path, "json,textgrid,csv", stem="take", overwrite=True)
    assert len(written) == 3 and (tmp_path / "take.TextGrid").read_text(encoding="utf-8") != "mine"


def test_missing_inputs_are_named_before_writing(tmp_path):
    with pytest.raises(ExportError, match="'csv' format needs animation"):
        write_all(sample_alignment(), tmp_path, ["json", "csv"])
    with pytest.raises(ExportError, match="'wav' format needs audio"):
        write_all((sample_alignment(), sample_animation()), tmp_path, ["wav"])
    assert list(tmp_path.iterdir()) == []


def test_format_names_are_checked_with_a_hint():
    with pytest.raises(InputError, match="Did you mean textgrid"):
        parse_formats("json,textgird")
    assert [f.name for f in parse_formats(" json, csv ,json")] == ["json", "csv"]
    with pytest.raises(InputError, match="No export format"):
        parse_formats("")
    with pytest.raises(InputError, match="plain file name"):
        write_all(sample_alignment(), ".", "json", stem="../up")


@pytest.mark.parametrize("name, fmt", [
    ("a.json", "json"), ("a.rhubarb.json", "rhubarb-json"), ("A.TEXTGRID", "textgrid"), ("x.livelink.csv", "livelink"),
    ("x.csv", "csv"), ("x.dat", "moho"), ("x.labels.txt", "audacity"), ("x.png", None),
])
def test_format_for_path(name, fmt):
    found = format_for_path(name)
    assert (found.name if found else None) == fmt


def test_write_one_infers_the_format(tmp_path):
    path = write_one((sample_alignment(), sample_animation()), tmp_path / "x.rhubarb.tsv")
    assert path.read_text(encoding="utf-8").startswith("0.00\tX\n")
    with pytest.raises(InputError, match="Cannot tell the format"):
        write_one(sample_alignment(), tmp_path / "x.bin")


def test_as_parts_accepts_result_objects():
    class Result:
        alignment = sample_alignment()
        animation = sample_animation()
        audio = np.zeros(10, np.float32)
        sample_rate = 8000

    parts = as_parts(Result())
    assert parts.alignment is Result.alignment and parts.sample_rate == 8000
    with pytest.raises(InputError, match="Cannot export"):
        as_parts(42)
    with pytest.raises(InputError, match="sample_rate"):
        ExportParts(audio=np.zeros(3))
