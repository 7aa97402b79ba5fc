"""`visemes align`, `align-corpus` and `eval-align` end to end (fake backend, plus real builtin runs)."""

from __future__ import annotations

import io
import json
import sys

import pytest

from visemes.alignment import base
from alignment_fakes import EvenAligner, tone_file
from visemes.cli.main import main
from visemes.core.textgrid import read_textgrid, write_textgrid
from visemes.core.timeline import Alignment


@pytest.fixture(autouse=True)
def fake_backend(monkeypatch):
    monkeypatch.setitem(base._REGISTRY, "fake-even", EvenAligner)


def test_align_textgrid_json_and_overwrite(tmp_path, capsys):
    tone_file(tmp_path / "a.wav", [(0.2, 0.6)], rate=44100)
    out = tmp_path / "res" / "a.TextGrid"
    argv = ["align", str(tmp_path / "a.wav"), "--phones", "s a | t a", "-o", str(out), "--backend", "fake-even"]
    assert main(argv) == 0
    assert "2 words, 4 phones" in capsys.readouterr().out
    grid = read_textgrid(out)
    assert grid.words.labels == ["sa", "ta"] and grid.phones[0].start == pytest.approx(0.2, abs=0.011)
    assert main(argv) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(argv + ["--overwrite"]) == 0
    assert main(argv[:4] + ["-o", str(tmp_path / "a.json"), "--backend", "fake-even"]) == 0
    doc = Alignment.from_json((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert doc.phones[0].attrs["confidence"] == 0.9 and doc.meta["aligner"] == "fake-even"


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--phones", "a", "--text", "hi", "--lang", "en"], "either --text"),
        (["--text", "hi"], "--text needs --lang"),
        ([], "either --text"),
        (["--phones", "a", "--acoustic-model", "english_mfa"], "apply to --backend mfa only"),
    ],
)
def test_align_argument_errors(tmp_path, capsys, extra, message):
    tone_file(tmp_path / "a.wav", [(0.2, 0.6)])
    assert main(["align", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o.TextGrid"),
                 "--backend", "fake-even", *extra]) == 2
    assert message in capsys.readouterr().err


def test_align_bad_output_type_and_audio(tmp_path, capsys):
    tone_file(tmp_path / "a.wav", [(0.2, 0.6)])
    assert main(["align", str(tmp_path / "a.wav"), "--phones", "a", "-o", str(tmp_path / "o.txt")]) == 2
    assert "OUT.TextGrid or OUT.json" in capsys.readouterr().err
    (tmp_path / "bad.wav").write_bytes(b"nonsense" * 10)
    assert main(["align", str(tmp_path / "bad.wav"), "--phones", "a", "-o", str(tmp_path / "o.json"),
                 "--backend", "fake-even"]) == 2
    err = capsys.readouterr().err
    assert "bad.wav" in err and "WAV, FLAC or OGG" in err and not (tmp_path / "o.json").exists()


def _corpus(root, bad: bool):
    corpus = root / "in"
    corpus.mkdir()
    for i in range(3):
        tone_file(corpus / f"u{i}.wav", [(0.1 * (i + 1), 0.6)])
        (corpus / f"u{i}.lab").write_text("m a | p a", encoding="utf-8")
    if bad:
        (corpus / "bad.flac").write_bytes(b"fLaC broken")
        (corpus / "bad.lab").write_text("a", encoding="utf-8")
    return corpus


def test_align_corpus_parallel_summary_and_exit_codes(tmp_path, capsys):
    corpus, out = _corpus(tmp_path, bad=True), tmp_path / "out"
    argv = ["align-corpus", str(corpus), str(out), "--ipa", "--backend", "fake-even", "--jobs", "2",
            "--format", "textgrid,json", "--no-progress"]
    assert main(argv) == 1
    captured = capsys.readouterr()
    text = captured.out
    assert "1 of 4 files failed" in captured.err
    assert "4 files: 3 done, 1 failed, 0 skipped" in text and "x real time" in text
    assert "FAILED bad: AudioError" in captured.err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"u{i}.TextGrid" for i in range(3)] + [f"u{i}.json" for i in range(3)] + ["corpus_report.json"])
    assert read_textgrid(out / "u2.TextGrid").phones[0].start == pytest.approx(0.3, abs=0.011)
    (corpus / "bad.flac").unlink()
    assert main(argv) == 0
    assert "3 files: 0 done, 0 failed, 3 skipped" in capsys.readouterr().out


def test_align_corpus_refusals(tmp_path, capsys):
    corpus = _corpus(tmp_path, bad=False)
    assert main(["align-corpus", str(corpus), str(corpus), "--ipa", "--backend", "fake-even"]) == 2
    assert "is the input folder" in capsys.readouterr().err
    assert main(["align-corpus", str(corpus), str(tmp_path / "o"), "--backend", "fake-even"]) == 2
    assert "--lang CODE" in capsys.readouterr().err
    assert main(["align-corpus", str(corpus), str(tmp_path / "o"), "--ipa", "--backend", "nope"]) == 2
    assert "Unknown aligner backend 'nope'" in capsys.readouterr().err


def test_align_corpus_mfa_unavailable_is_refused_up_front(tmp_path, capsys, monkeypatch):
    from visemes.alignment.mfa import mfa_version

    monkeypatch.setenv("PATH", str(tmp_path))
    mfa_version.cache_clear()
    try:
        corpus = _corpus(tmp_path, bad=False)
        code = main(["align-corpus", str(corpus), str(tmp_path / "o"), "--ipa", "--backend", "mfa",
                     "--acoustic-model", "english_mfa"])
    finally:
        mfa_version.cache_clear()
    assert code == 2 and "not on PATH" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_eval_align_table_json_and_nothing_scored(tmp_path, capsys):
    gold = Alignment.from_dict({"format_version": 1, "duration": 1.0, "tiers": [
        {"name": "phones", "intervals": [{"start": 0.1, "end": 0.2, "label": "p"},
                                         {"start": 0.2, "end": 0.4, "label": "a"}]}]})
    pred = Alignment.from_dict({"format_version": 1, "duration": 1.0, "tiers": [
        {"name": "phones", "intervals": [{"start": 0.11, "end": 0.2, "label": "p"},
                                         {"start": 0.2, "end": 0.43, "label": "a"}]}]})
    write_textgrid(gold, tmp_path / "gold" / "ces" / "x.TextGrid")
    write_textgrid(pred, tmp_path / "pred" / "ces" / "x.TextGrid")
    assert main(["eval-align", str(tmp_path / "pred"), str(tmp_path / "gold")]) == 0
    table = capsys.readouterr().out
    assert "lang ces" in table and "overall" in table
    assert main(["eval-align", str(tmp_path / "pred"), str(tmp_path / "gold"), "--json", "--lang-from", "none"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["overall"]["boundaries"] == 3 and data["overall"]["mean_ms"] == pytest.approx(40 / 3)
    assert list(data["by_lang"]) == ["unknown"]
    # a gold phone the prediction lacks, in a tier named "IPA": matched by edit distance, one deletion
    gold2 = Alignment.from_dict({"format_version": 1, "duration": 1.0, "tiers": [
        {"name": "IPA", "intervals": [{"start": 0.1, "end": 0.2, "label": "p"}, {"start": 0.2, "end": 0.3, "label": "a"},
                                      {"start": 0.3, "end": 0.4, "label": "ʔ"}]}]})
    write_textgrid(gold2, tmp_path / "gold2" / "ces" / "x.TextGrid")
    assert main(["eval-align", str(tmp_path / "pred"), str(tmp_path / "gold2"), "--json",
                 "--gold-phones-tier", "ipa"]) == 0
    data = json.loads(capsys.readouterr().out)
    # p start 10 ms, a start 0 ms; the final end is not scored (the last gold phone is deleted)
    assert data["overall"]["boundaries"] == 2 and data["overall"]["mean_ms"] == pytest.approx(5.0)
    assert data["edits"]["ALL"] == {"gold": 3, "substituted": 0, "inserted": 0, "deleted": 1,
                                    "error_rate": pytest.approx(1 / 3, abs=1e-6)}
    (tmp_path / "empty_pred").mkdir()
    assert main(["eval-align", str(tmp_path / "empty_pred"), str(tmp_path / "gold")]) == 1
    captured = capsys.readouterr()
    assert "no file could be scored" in captured.err and "no prediction for: ces/x" in captured.out


# --- real runs with the built-in aligner on synthetic speech with exact gold times ---------------------


@pytest.fixture(scope="module")
def spoken():
    pytest.importorskip("visemes.alignment.builtin", reason="the built-in aligner is not installed in this checkout")
    from visemes.speech.synthesis import speak

    return [speak(text, "ar") for text in ("شكرا جزيلا", "مرحبا")]


def test_builtin_align_cli_on_synthetic_speech(tmp_path, spoken, capsys):
    import soundfile as sf

    sf.write(str(tmp_path / "s.wav"), spoken[0].audio, spoken[0].sample_rate)
    out = tmp_path / "s.json"
    assert main(["align", str(tmp_path / "s.wav"), "--text", "شكرا جزيلا", "--lang", "ar", "-o", str(out)]) == 0
    result = Alignment.from_json(out.read_text(encoding="utf-8"))
    gold = spoken[0].alignment
    assert result.phones.labels == gold.phones.labels and result.meta["aligner"] == "builtin"
    from visemes.alignment.evaluate import evaluate_pairs

    report = evaluate_pairs([result], [gold], langs=["ar"])
    assert report.overall.within[50] >= 0.8, report.table()


def test_builtin_align_corpus_pools_files(tmp_path, spoken, capsys):
    import soundfile as sf

    corpus = tmp_path / "in"
    corpus.mkdir()
    for i, (s, text) in enumerate(zip(spoken, ("شكرا جزيلا", "مرحبا"))):
        sf.write(str(corpus / f"u{i}.wav"), s.audio, s.sample_rate)
        (corpus / f"u{i}.txt").write_text(text, encoding="utf-8")
    assert main(["align-corpus", str(corpus), str(tmp_path / "out"), "--lang", "ar", "--format", "json",
                 "--no-progress"]) == 0
    assert "2 done" in capsys.readouterr().out
    for i, s in enumerate(spoken):
        result = Alignment.from_json((tmp_path / "out" / f"u{i}.json").read_text(encoding="utf-8"))
        assert result.phones.labels == s.alignment.phones.labels
        assert all(0.0 <= iv.attrs["confidence"] <= 1.0 for iv in result.phones)


def test_align_reads_the_text_from_a_file_or_standard_input(tmp_path, capsys, monkeypatch):
    tone_file(tmp_path / "a.wav", [(0.2, 0.6)], rate=44100)
    (tmp_path / "a.txt").write_text("hello world\n", encoding="utf-8")
    base_argv = ["align", str(tmp_path / "a.wav"), "--lang", "en-US", "--backend", "fake-even"]
    assert main(base_argv + ["--text-file", str(tmp_path / "a.txt"), "-o", str(tmp_path / "f.json")]) == 0
    from_file = Alignment.from_json((tmp_path / "f.json").read_text(encoding="utf-8"))
    assert from_file.words.labels == ["hello", "world"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO("hello world".encode("utf-8"))))
    assert main(base_argv + ["--text-file", "-", "-o", str(tmp_path / "s.json")]) == 0
    from_stdin = Alignment.from_json((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert from_stdin.phones.labels == from_file.phones.labels
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello \xff world")))
    assert main(base_argv + ["--text-file", "-", "-o", str(tmp_path / "bad.json")]) == 2
    assert "standard input is not UTF-8" in capsys.readouterr().err
    assert main(base_argv + ["--text", "hi", "--text-file", str(tmp_path / "a.txt"), "-o", str(tmp_path / "x.json")]) == 2
    assert "not both" in capsys.readouterr().err
