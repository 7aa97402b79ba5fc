import json
import xml.etree.ElementTree as ET

import pytest

from _export_samples import sample_alignment
from visemes.core.errors import ExportError
from visemes.formats import ExportParts, moho, rhubarb
from visemes.core.timeline import Alignment, Interval, Tier

# Neighbouring equal shapes are joined (0.62-0.70 F + 0.70-0.80 F), as Rhubarb's JoiningTimeline does;
# the pause 0.50-0.62 becomes X.
EXPECTED = [("0.00", "0.10", "X"), ("0.10", "0.30", "C"), ("0.30", "0.40", "H"), ("0.40", "0.50", "F"),
            ("0.50", "0.62", "X"), ("0.62", "0.80", "F"), ("0.80", "0.88", "H"), ("0.88", "0.95", "B"),
            ("0.95", "1.10", "X")]


def rhubarb_alignment() -> Alignment:
    tier = Tier("visemes", (Interval(0.10, 0.30, "C"), Interval(0.30, 0.40, "H"), Interval(0.40, 0.50, "F"),
                            Interval(0.62, 0.70, "F"), Interval(0.70, 0.80, "F"), Interval(0.80, 0.88, "H"),
                            Interval(0.88, 0.95, "B")))
    return Alignment((tier,), 1.1, {"viseme_set": "rhubarb"})


def test_cues_are_continuous_joined_and_on_the_centisecond_grid():
    cues = rhubarb.mouth_cues(rhubarb_alignment().visemes, 1.1)
    assert [(f"{c.start:.2f}", f"{c.end:.2f}", c.shape) for c in cues] == EXPECTED
    assert all(a.end_cs == b.start_cs for a, b in zip(cues, cues[1:]))
    # 4 ms intervals vanish on the 10 ms grid instead of producing zero-length cues.
    tiny = Tier("visemes", (Interval(0.101, 0.104, "A"), Interval(0.2, 0.3, "D")))
    shapes = [(c.start_cs, c.end_cs, c.shape) for c in rhubarb.mouth_cues(tiny, 0.5)]
    assert shapes == [(0, 20, "X"), (20, 30, "D"), (30, 50, "X")]


def test_tsv_is_exactly_rhubarbs_layout(tmp_path):
    path = rhubarb.write_tsv(ExportParts(rhubarb_alignment()), tmp_path / "r.tsv")
    expected = "".join(f"{s}\t{shape}\n" for s, _, shape in EXPECTED) + "1.10\tX\n"
    assert path.read_text(encoding="utf-8") == expected


def test_json_is_exactly_rhubarbs_layout(tmp_path):
    parts = ExportParts(rhubarb_alignment(), sound_file="/takes/line 1.wav")
    text = rhubarb.write_json(parts, tmp_path / "r.json").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[:6] == ["{", '  "metadata": {', '    "soundFile": "/takes/line 1.wav",', '    "duration": 1.10',
                         "  },", '  "mouthCues": [']
    assert lines[6] == '    { "start": 0.00, "end": 0.10, "value": "X" },'
    assert lines[-3:] == ['    { "start": 0.95, "end": 1.10, "value": "X" }', "  ]", "}"]
    data = json.loads(text)
    assert [(c["start"], c["end"], c["value"]) for c in data["mouthCues"]] == [
        (float(s), float(e), v) for s, e, v in EXPECTED]


def test_xml_is_exactly_rhubarbs_layout(tmp_path):
    parts = ExportParts(rhubarb_alignment(), sound_file="a&b.wav")
    text = rhubarb.write_xml(parts, tmp_path / "r.xml").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[:8] == ['<?xml version="1.0" encoding="utf-8"?>', "<rhubarbResult>", "  <metadata>",
                         "    <soundFile>a&amp;b.wav</soundFile>", "    <duration>1.10</duration>",
                         "  </metadata>", "  <mouthCues>", '    <mouthCue start="0.00" end="0.10">X</mouthCue>']
    assert lines[-2:] == ["  </mouthCues>", "</rhubarbResult>"]
    root = ET.fromstring(text)
    assert root.findtext("metadata/soundFile") == "a&b.wav"
    assert [(c.get("start"), c.get("end"), c.text) for c in root.iter("mouthCue")] == EXPECTED


@pytest.mark.parametrize("writer, reader", [(rhubarb.write_tsv, rhubarb.read_tsv),
                                            (rhubarb.write_json, rhubarb.read_json)])
def test_readers_round_trip(tmp_path, writer, reader):
    original = rhubarb_alignment()
    back = reader(writer(ExportParts(original), tmp_path / "r.out"))
    assert back.meta["viseme_set"] == "rhubarb" and back.duration == pytest.approx(1.1)
    want = [(float(s), float(e), v) for s, e, v in EXPECTED if v != "X"]
    assert [(iv.start, iv.end, iv.label) for iv in back.visemes] == [tuple(pytest.approx(x) if isinstance(x, float) else x for x in w) for w in want]


def test_reads_rhubarb_files_written_by_rhubarb(tmp_path):
    tsv = tmp_path / "take.tsv"
    tsv.write_text("0.00\tX\n0.05\tB\n0.27\tC\n0.41\tX\n0.50\tA\n0.61\tX\n", encoding="utf-8")
    a = rhubarb.read_tsv(tsv)
    assert a.visemes.labels == ["B", "C", "A"] and a.duration == pytest.approx(0.61)
    js = tmp_path / "take.json"
    js.write_text(json.dumps({"metadata": {"soundFile": "x.wav", "duration": 0.9},
                              "mouthCues": [{"start": 0.0, "end": 0.3, "value": "X"},
                                            {"start": 0.3, "end": 0.6, "value": "G"}]}), encoding="utf-8")
    b = rhubarb.read_json(js)
    assert b.visemes.labels == ["G"] and b.duration == pytest.approx(0.9)


@pytest.mark.parametrize("text, message", [
    ("0.00\tQ\n1.0\tX\n", "not a Rhubarb mouth shape"),
    ("0.5\tA\n0.2\tX\n", "must not decrease"),
    ("0.0 A\n", "expected"),
    ("zero\tA\n", "not a time"),
])
def test_tsv_reader_errors(tmp_path, text, message):
    path = tmp_path / "bad.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ExportError, match=message):
        rhubarb.read_tsv(path)


def test_non_rhubarb_labels_are_refused(tmp_path):
    # An Oculus-set viseme tier must not leak into a Rhubarb file.
    with pytest.raises(ExportError, match="not a Rhubarb shape"):
        rhubarb.mouth_cues(sample_alignment("oculus").visemes, 1.1)


def test_needs_phones_or_rhubarb_visemes(tmp_path):
    a = Alignment((Tier("words", (Interval(0, 1, "x"),)),), 1.0)
    with pytest.raises(ExportError, match="phones tier"):
        rhubarb.write_tsv(ExportParts(a), tmp_path / "r.tsv")
    no_lang = sample_alignment("oculus").with_meta(lang=None)
    with pytest.raises(ExportError, match="names no language"):
        rhubarb.write_tsv(ExportParts(no_lang), tmp_path / "r.tsv")


def test_moho_switch_file(tmp_path):
    path = moho.write(ExportParts(rhubarb_alignment()), tmp_path / "m.dat", fps=24)
    # frame = 1 + floor(24 * start): 0.88 s -> 22, 0.95 s -> 23; the end 1.10 s -> 27.
    assert path.read_text(encoding="utf-8") == (
        "MohoSwitch1\n1 rest\n3 E\n8 L\n10 U\n13 rest\n15 U\n20 L\n22 etc\n23 rest\n27 rest\n")


def test_moho_drops_cues_sharing_a_frame_and_bumps_the_final_rest():
    cues = [rhubarb.MouthCue(0, 10, "X"), rhubarb.MouthCue(10, 12, "A"), rhubarb.MouthCue(12, 13, "B")]
    # At 24 fps 0.10 s and 0.12 s are both frame 3: the second cue is dropped; the end (0.13 s) is frame 4.
    assert moho.to_dat(cues, 24) == "MohoSwitch1\n1 rest\n3 MBP\n4 rest\n"
    same = [rhubarb.MouthCue(0, 10, "X"), rhubarb.MouthCue(10, 11, "D")]
    assert moho.to_dat(same, 24) == "MohoSwitch1\n1 rest\n3 AI\n4 rest\n"  # end frame taken -> +1


def test_moho_mapping_covers_every_rhubarb_shape():
    assert set(moho.RHUBARB_TO_MOHO) == set(rhubarb.RHUBARB_SHAPES)
    assert set(moho.RHUBARB_TO_MOHO.values()) <= set(moho.MOHO_MOUTHS)


class TinyPack:
    """The pack interface the exporters use (``.phone(symbol)`` with ``.viseme`` and ``.target``)."""

    SPECS = {"m": ("PP", {}), "a": ("aa", {"jaw_open": 0.9}), "f": ("FF", {}), "u": ("ou", {"lip_round": 0.9}),
             "l": ("nn", {"tongue_tip": 1.0})}

    def phone(self, symbol):
        from types import SimpleNamespace

        viseme, target = self.SPECS[symbol]
        return SimpleNamespace(symbol=symbol, viseme=viseme, target=target, explicit=True)


def test_rhubarb_shapes_are_derived_from_phones_with_the_pack(tmp_path):
    phones = Tier("phones", (Interval(0.1, 0.2, "m"), Interval(0.2, 0.4, "a"), Interval(0.5, 0.6, "f"),
                             Interval(0.6, 0.8, "u"), Interval(0.8, 0.9, "l")))
    oculus = Alignment((phones,), 1.0, {"viseme_set": "oculus"})
    path = rhubarb.write_tsv(ExportParts(oculus, pack=TinyPack()), tmp_path / "r.tsv")
    assert path.read_text(encoding="utf-8") == (
        "0.00\tX\n0.10\tA\n0.20\tD\n0.40\tX\n0.50\tG\n0.60\tF\n0.80\tH\n0.90\tX\n1.00\tX\n")


def _cue_tuples(cues):
    return [(f"{c.start:.2f}", f"{c.end:.2f}", c.shape) for c in cues]


def test_min_cue_borrows_from_longer_neighbours():
    # B (7 cs) needs 3: H (8) has nothing to spare, the final X (15) gives 3; then H (8) takes 2 from F (18).
    cues = rhubarb.mouth_cues(rhubarb_alignment().visemes, 1.1, min_cue=0.10)
    assert _cue_tuples(cues) == [("0.00", "0.10", "X"), ("0.10", "0.30", "C"), ("0.30", "0.40", "H"),
                                 ("0.40", "0.50", "F"), ("0.50", "0.62", "X"), ("0.62", "0.78", "F"),
                                 ("0.78", "0.88", "H"), ("0.88", "0.98", "B"), ("0.98", "1.10", "X")]


def test_min_cue_drops_a_cue_its_neighbours_cannot_pay_for():
    # worked by hand, shortest cue first (12 cs): B 7 -> absorbed by X; H 8 takes 4 from X; X 10 takes 2
    # from C; H 10 takes 2 from C; F 10 (both neighbours at 12) -> absorbed by the earlier H
    cues = rhubarb.mouth_cues(rhubarb_alignment().visemes, 1.1, min_cue=0.12)
    assert _cue_tuples(cues) == [("0.00", "0.12", "X"), ("0.12", "0.28", "C"), ("0.28", "0.50", "H"),
                                 ("0.50", "0.62", "X"), ("0.62", "0.80", "F"), ("0.80", "0.92", "H"),
                                 ("0.92", "1.10", "X")]
    assert all(c.end_cs - c.start_cs >= 12 for c in cues)


def test_basic_shapes_only_like_extended_shapes_empty():
    cues = rhubarb.mouth_cues(rhubarb_alignment().visemes, 1.1, extended_shapes="")
    assert _cue_tuples(cues) == [("0.00", "0.10", "A"), ("0.10", "0.40", "C"), ("0.40", "0.50", "F"),
                                 ("0.50", "0.62", "A"), ("0.62", "0.80", "F"), ("0.80", "0.88", "C"),
                                 ("0.88", "0.95", "B"), ("0.95", "1.10", "A")]


def test_writer_options_reach_the_file_and_leave_the_alignment(tmp_path):
    from visemes.formats import ExportOptions, write_one

    al = rhubarb_alignment()
    path = write_one(al, tmp_path / "x.rhubarb.tsv", options=ExportOptions(min_cue=0.10, extended_shapes="gx"))
    # H -> C (H is not in "GX") joins the C before it; the late C grew from 8 to 10 cs, the B from 7 to 10
    assert path.read_text().splitlines() == ["0.00\tX", "0.10\tC", "0.40\tF", "0.50\tX", "0.62\tF", "0.78\tC",
                                             "0.88\tB", "0.98\tX", "1.10\tX"]
    assert al.visemes.intervals[1] == Interval(0.30, 0.40, "H")  # the timeline itself is untouched
    with pytest.raises(Exception, match="subset of 'GHX'"):
        ExportOptions(extended_shapes="GQ")


def test_cli_animate_refuses_unknown_extended_shapes_before_any_work(tmp_path):
    from click.testing import CliRunner

    from visemes.cli.main import cli

    out = CliRunner().invoke(cli, ["animate", "--text", "a", "--lang", "en-US", "-o", str(tmp_path / "o"),
                                   "--extended-shapes", "GQ", "--min-cue", "70"])
    assert out.exit_code != 0 and "subset of 'GHX'" in str(out.output) + str(out.exception)
    assert not (tmp_path / "o").exists()
