"""`visemes langs` and `visemes phonemize` through the real CLI entry point."""

from __future__ import annotations

import json

from visemes.cli.main import main


def test_langs_json(capsys):
    assert main(["langs", "--json"]) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert {"cmn", "ar", "hi"} <= set(rows)
    assert rows["cmn"]["backend"] == "espeak" and rows["cmn"]["coverage"] == 1.0 and rows["cmn"]["phone_count"] > 30
    assert set(rows["ar"]) >= {"code", "name", "parent", "backend", "phone_count", "coverage"}


REQUIRED = ("cmn cmn-TW yue ar ar-EG ar-LB hi ur bn ta te mr en-US en-GB en-IN es es-MX pt-BR pt-PT fr de it ru "
            "uk pl nl tr fa he ja ko vi th id sw").split()


def test_langs_json_lists_every_required_pack_at_full_coverage(capsys):
    """Issue #2's bar: >= 35 packs, the 35 required among them, each with 100% recorded coverage."""
    assert main(["langs", "--json"]) == 0
    rows = {r["code"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) >= 35 and not set(REQUIRED) - set(rows), sorted(set(REQUIRED) - set(rows))
    assert {code: rows[code]["coverage"] for code in rows if rows[code]["coverage"] != 1.0} == {}


def test_langs_table(capsys):
    assert main(["langs"]) == 0
    out = capsys.readouterr().out
    assert "cmn" in out and "Hindi" in out


def test_phonemize_shows_tones(capsys):
    assert main(["phonemize", "妈马", "--lang", "cmn"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["妈\tm ˈɑ{1}", "马\tm ˈɑ{3}"]


def test_phonemize_json(capsys):
    assert main(["phonemize", "फल", "--lang", "hi", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["lang"] == "hi"
    phones = data["words"][0]["phones"]
    assert [p["symbol"] for p in phones] == ["pʰ", "ʌ", "l"] and phones[0]["viseme"] == "PP"
    assert phones[1]["attrs"] == {"stress": "primary"}


def test_phonemize_errors_are_one_line(capsys):
    assert main(["phonemize", "hello", "--lang", "klingon"]) == 2
    assert "Unknown language code" in capsys.readouterr().err
    assert main(["phonemize", "🙂", "--lang", "ar"]) == 2
    assert "produced no phones" in capsys.readouterr().err
