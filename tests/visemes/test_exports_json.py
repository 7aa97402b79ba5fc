import json

import numpy as np
import pytest

from _export_samples import sample_alignment, sample_animation
from visemes.core.errors import ExportError, OutputExistsError
from visemes.formats import ExportParts, json_doc


def test_round_trip_alignment_and_animation(tmp_path):
    alignment, animation = sample_alignment(), sample_animation()
    path = json_doc.write(ExportParts(alignment, animation), tmp_path / "r.json")
    back = json_doc.read(path)
    assert back.alignment == alignment
    assert dict(back.alignment.phones[0].attrs) == {"confidence": 0.31}
    assert back.alignment.words[1].label == "wörld"
    assert back.alignment.meta["note"] == "ünïcode"
    for group in ("articulation", "blendshapes", "visemes"):
        assert getattr(back.animation, group).allclose(getattr(animation, group), atol=1e-5)
    assert back.animation.source == "test"
    # UTF-8 text, not \u escapes: the file stays readable for people.
    assert "wörld" in path.read_text(encoding="utf-8")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["format"] == "visemes.result" and doc["format_version"] == 1


def test_parts_may_be_missing(tmp_path):
    only_alignment = json_doc.read(json_doc.write(ExportParts(sample_alignment()), tmp_path / "a.json"))
    assert only_alignment.animation is None and only_alignment.alignment is not None
    only_anim = json_doc.read(json_doc.write(ExportParts(animation=sample_animation()), tmp_path / "b.json"))
    assert only_anim.alignment is None
    assert np.allclose(only_anim.animation.visemes.values.sum(axis=1), 1.0, atol=1e-3)
    with pytest.raises(ExportError, match="Nothing to write"):
        json_doc.write(ExportParts(), tmp_path / "c.json")


def test_reads_a_bare_alignment_document(tmp_path):
    path = tmp_path / "align.json"
    path.write_text(sample_alignment().to_json(), encoding="utf-8")
    assert json_doc.read(path).alignment == sample_alignment()


@pytest.mark.parametrize("doc, message", [
    ({"format": "visemes.result", "format_version": 99, "alignment": None}, "format_version 99"),
    ({"format": "something.else"}, "not a visemes JSON"),
    ([1, 2], "object at the top level"),
    ({"format": "visemes.result", "format_version": 1, "alignment": None, "animation": None}, "neither"),
])
def test_rejects_foreign_or_future_documents(tmp_path, doc, message):
    path = tmp_path / "x.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ExportError, match=message):
        json_doc.read(path)


def test_invalid_json_and_missing_file(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ExportError, match="not valid JSON"):
        json_doc.read(bad)
    with pytest.raises(ExportError, match="Cannot read"):
        json_doc.read(tmp_path / "absent.json")


def test_refuses_to_overwrite_unless_asked(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("keep me", encoding="utf-8")
    with pytest.raises(OutputExistsError):
        json_doc.write(ExportParts(sample_alignment()), path)
    assert path.read_text(encoding="utf-8") == "keep me"
    json_doc.write(ExportParts(sample_alignment()), path, overwrite=True)
    assert json_doc.read(path).alignment == sample_alignment()
