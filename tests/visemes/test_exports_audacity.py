import pytest

from _export_samples import sample_alignment
from visemes.core.errors import ExportError
from visemes.formats import ExportParts, audacity
from visemes.core.timeline import Alignment, Interval, Tier


def test_exact_lines_and_default_tier(tmp_path):
    path = audacity.write(ExportParts(sample_alignment()), tmp_path / "l.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "0.100000\t0.180000\tC"  # the visemes tier is the default
    assert len(lines) == 8 and all(len(line.split("\t")) == 3 for line in lines)


def test_round_trip_chosen_tier(tmp_path):
    alignment = sample_alignment()
    path = audacity.write(ExportParts(alignment), tmp_path / "w.txt", tier="words")
    back = audacity.read_audacity(path, tier="words", duration=alignment.duration)
    assert back.words == alignment.words and back.duration == alignment.duration


def test_reader_skips_spectral_lines_and_point_labels(tmp_path):
    path = tmp_path / "labels.txt"
    path.write_text("0.5\t0.9\tbeta\n\\\t100.0\t2000.0\n0.1\t0.1\tclick\n0.0\t0.4\talpha\n", encoding="utf-8")
    a = audacity.read_audacity(path)
    assert a.tier("labels").labels == ["alpha", "beta"] and a.duration == 0.9


def test_errors(tmp_path):
    overlap = tmp_path / "o.txt"
    overlap.write_text("0.0\t0.5\ta\n0.4\t0.9\tb\n", encoding="utf-8")
    with pytest.raises(ExportError, match="overlaps"):
        audacity.read_audacity(overlap)
    empty = tmp_path / "e.txt"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(ExportError, match="no labelled region"):
        audacity.read_audacity(empty)
    tabbed = Alignment((Tier("words", (Interval(0, 1, "a\tb"),)),), 1.0)
    with pytest.raises(ExportError, match="tab"):
        audacity.write(ExportParts(tabbed), tmp_path / "t.txt")
