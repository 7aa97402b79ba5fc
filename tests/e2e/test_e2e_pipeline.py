"""visemes.animate end to end on synthetic speech: every entry point, outputs, QA flags, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from visemes import lang_packs
import visemes
from visemes.cli.main import main
from visemes.core.curves import frame_count
from visemes.core.errors import InputError, OutputExistsError
from visemes.formats import FORMATS
from visemes.pipeline.animator import AnimationResult, animate
from visemes.core.vocabulary import OCULUS_15, classes


def _starts(tier):
    return np.array([iv.start for iv in tier])


def test_animate_aligns_maps_and_animates(en_speech, en_result):
    r = en_result
    assert isinstance(r, AnimationResult) and visemes.animate is animate
    assert r.alignment.tier_names == ["words", "phones", "visemes"]
    assert r.phones.labels == lang_packs.load("en-US").phonemize(en_speech.text).symbols
    assert r.alignment.words.labels == en_speech.gold.words.labels
    # The aligner lands close to espeak-ng's own phone times on espeak-ng speech.
    err = np.abs(_starts(r.phones) - _starts(en_speech.gold.phones))
    assert np.median(err) < 0.1  # sanity bound; the aligner's accuracy is benchmarked in benchmarks/
    assert all(0.0 <= iv.attrs["confidence"] <= 1.0 for iv in r.phones)
    assert set(r.visemes.labels) <= set(OCULUS_15)
    assert r.visemes.end == pytest.approx(r.duration)  # the viseme tier covers the take
    assert r.animation.n_frames == frame_count(r.duration, 30.0)
    assert r.animation.visemes.channels == OCULUS_15
    assert np.allclose(r.animation.visemes.values.sum(axis=1), 1.0, atol=1e-4)
    assert r.timing == "aligned" and r.qa_flags == [] and r.name == "hello"
    s = r.summary()
    assert s["phones"] == len(r.phones) and s["aligner"] == "builtin" and s["curves"] == "coarticulation"
    assert 0.5 < s["confidence"] <= 1.0 and s["low_confidence_share"] < 0.25


def test_save_every_format_then_refuse_to_overwrite(en_result, tmp_path):
    names = [n for n in FORMATS]
    written = en_result.save(tmp_path, names, plot=True, preview=True)
    expected = {f.path_for(tmp_path, "hello").name for f in FORMATS.values()} | {
        "hello.png", "hello.mp4", "hello.summary.json"}
    assert {p.name for p in written} == expected == {p.name for p in tmp_path.iterdir()}
    summary = json.loads((tmp_path / "hello.summary.json").read_text())
    assert summary["format"] == "visemes.summary" and set(summary["outputs"]) == expected
    # The JSON export reads back to the same timeline.
    doc = FORMATS["json"].read(tmp_path / "hello.json")
    assert doc.alignment.phones.labels == en_result.phones.labels
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(OutputExistsError, match="--overwrite"):
        en_result.save(tmp_path, ["csv"], plot=True)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    with pytest.raises(InputError, match="overwrite an input"):
        en_result.save(tmp_path, ["wav"], stem="in", overwrite=True, protect=[tmp_path / "in.wav"])


def test_given_timings_skip_alignment_and_give_the_same_curves(en_speech, en_result, tmp_path):
    doc = en_result.save(tmp_path, ["json"], summary=False)[0]
    from_json = animate(en_speech.path, alignment=doc, use_model=False)  # our JSON carries the language
    assert from_json.timing == "given" and from_json.phones.labels == en_result.phones.labels
    tg = en_result.save(tmp_path, ["textgrid"], summary=False)[0]
    again = animate(en_speech.path, alignment=tg, lang="en-US", use_model=False)
    assert again.timing == "given"
    assert np.allclose(_starts(again.phones), _starts(en_result.phones), atol=1e-3)
    # the JSON keeps the phones' stress, which the coarticulation model reads (a TextGrid has none)
    assert from_json.animation.articulation.allclose(en_result.animation.articulation, atol=1e-3)
    with pytest.raises(visemes.VisemesError, match="timings run to"):
        animate(en_speech.audio[: en_speech.sample_rate // 2], en_speech.sample_rate, alignment=tg, lang="en-US",
                use_model=False)


def test_shipped_model_curves(en_speech, en_result):
    r = animate(en_speech.audio, en_speech.sample_rate, alignment=en_result.alignment, lang="en-US", use_model=True)
    assert r.animation.source.startswith("model:") and r.summary()["curves"] == r.animation.source
    assert r.animation.n_frames == en_result.animation.n_frames
    art = r.animation.articulation.values
    assert art.min() >= 0.0 and art.max() <= 1.0 and art.std(axis=0).max() > 0.02  # it moves
    assert np.allclose(r.animation.visemes.values.sum(axis=1), 1.0, atol=1e-3)


def test_text_only_uses_espeak_timing(tmp_path):
    r = animate(text="Good morning.", lang="en-US", use_model=False, viseme_set="rhubarb")
    assert r.timing == "synthesized" and r.audio is not None and r.sample_rate > 0
    assert set(r.visemes.labels) <= set(classes("rhubarb"))
    assert r.animation.visemes.channels == classes("rhubarb")
    paths = r.save(tmp_path, ["wav", "rhubarb-tsv"])
    info = sf.info(paths[0])
    assert abs(info.frames / info.samplerate - r.duration) < 0.01


def test_ipa_phones_entry_point(en_speech):
    ipa = " | ".join(" ".join(w.symbols) for w in lang_packs.load("en-US").phonemize(en_speech.text).words)
    r = animate(en_speech.audio, en_speech.sample_rate, phones=ipa, lang="en-US", use_model=False)
    assert r.phones.labels == en_speech.gold.phones.labels
    with pytest.raises(InputError, match="need audio"):
        animate(phones=ipa, lang="en-US", use_model=False)
    with pytest.raises(InputError, match="not both"):
        animate(en_speech.audio, en_speech.sample_rate, text="x", phones=ipa, lang="en-US")


def test_qa_flags_mismatch_and_clipping(en_speech):
    wrong = ("Seven purple elephants quietly negotiated a complicated treaty with the mountain goats "
             "before breakfast on Tuesday morning.")
    r = animate(en_speech.audio, en_speech.sample_rate, text=wrong, lang="en-US", use_model=False)
    assert "transcript_mismatch" in r.qa_flags
    loud = np.clip(en_speech.audio * 20.0, -1.0, 1.0)
    r2 = animate(loud, en_speech.sample_rate, text=en_speech.text, lang="en-US", use_model=False)
    assert "clipped_audio" in r2.qa_flags and r2.qa["clipped_share"] > 0.01


def test_cli_animate_writes_and_prints_summary(en_speech, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["animate", str(en_speech.path), "--text", en_speech.text, "--lang", "en-US", "-o", str(out),
               "--no-model", "--format", "json,rhubarb,livelink", "--fps", "25"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "hello: en-us" in printed.lower() and "QA: no flags" in printed and "hello.rhubarb.tsv" in printed
    summary = json.loads((out / "hello.summary.json").read_text())
    assert summary["fps"] == 25.0 and summary["frames"] == frame_count(summary["duration"], 25.0)
    assert sorted(p.name for p in out.iterdir()) == [
        "hello.json", "hello.livelink.csv", "hello.rhubarb.tsv", "hello.summary.json"]
    # Again without --overwrite: a clear refusal (exit 2), files unchanged.
    rc = main(["animate", str(en_speech.path), "--text", en_speech.text, "--lang", "en-US", "-o", str(out), "--no-model"])
    assert rc == 2 and "--overwrite" in capsys.readouterr().err
    # Text-file input and an output that would replace the input audio.
    words = tmp_path / "words.txt"
    words.write_text(en_speech.text, encoding="utf-8")
    rc = main(["animate", str(en_speech.path), "--text-file", str(words), "--lang", "en-US", "-o",
               str(en_speech.path.parent), "--no-model", "--format", "wav", "--overwrite"])
    assert rc == 2 and "overwrite an input" in capsys.readouterr().err
    # No transcript at all: audio-only mode (phone classes recognised from the audio), not an error.
    rc = main(["animate", str(en_speech.path), "--lang", "en-US", "-o", str(tmp_path / "audio_only"), "--no-model",
               "--format", "json"])
    assert rc == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "audio_only" / "hello.summary.json").read_text())["timing"] == "audio-only"


def test_cli_text_only_with_plot_and_preview(tmp_path, capsys):
    rc = main(["animate", "--text", "Thank you.", "--lang", "en-US", "-o", str(tmp_path), "--stem", "ty",
               "--no-model", "--format", "all", "--plot", "--preview"])
    assert rc == 0, capsys.readouterr().err
    names = {p.name for p in tmp_path.iterdir()}
    assert {"ty.png", "ty.mp4", "ty.wav", "ty.oculus.csv", "ty.TextGrid", "ty.summary.json"} <= names


def test_cli_side_by_side_comparison(en_speech, tmp_path, capsys):
    from visemes.formats.preview import DEFAULT_SIZE, find_ffmpeg

    rc = main(["animate", str(en_speech.path), "--text", en_speech.text, "--lang", "en-US", "-o", str(tmp_path),
               "--no-model", "--format", "json", "--compare-lang", "en-GB"])
    assert rc == 0, capsys.readouterr().err
    out = tmp_path / ("hello.compare.mp4" if find_ffmpeg() else "hello.compare.gif")
    assert out.is_file()
    if find_ffmpeg():
        import subprocess

        probe = subprocess.run([find_ffmpeg(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
        assert f"{2 * DEFAULT_SIZE[0] + 2}x{DEFAULT_SIZE[1]}" in probe  # two panels and a separator
    rc = main(["animate", str(en_speech.path), "--text", en_speech.text, "--lang", "en-US", "-o", str(tmp_path),
               "--no-model", "--compare-lang", "en-GB", "--compare-adapter", "x"])
    assert rc == 2 and "one thing at a time" in capsys.readouterr().err


def test_save_preview_falls_back_to_gif_without_ffmpeg(en_result, tmp_path, monkeypatch):
    monkeypatch.setattr("visemes.formats.preview.find_ffmpeg", lambda: None)
    written = en_result.save(tmp_path, ["json"], preview=True)
    assert [p.name for p in written] == ["hello.json", "hello.gif", "hello.summary.json"]
    with pytest.raises(OutputExistsError):
        en_result.save(tmp_path, ["csv"], preview=True)  # refused up front: nothing new written
    assert not (tmp_path / "hello.csv").exists()
