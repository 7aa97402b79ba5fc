"""Audio-only mode end to end: no transcript (and no language), the same kind of result as the text path."""

from __future__ import annotations

import json

import numpy as np

from visemes.cli.main import main
from visemes.core.timeline import is_silence_label
from visemes.pipeline.animator import animate


def _speech_frames(tier, duration, step=0.01):
    centres = (np.arange(int(duration / step)) + 0.5) * step
    out = np.zeros(len(centres), bool)
    for iv in tier:
        if not is_silence_label(iv.label):
            out[(centres >= iv.start) & (centres < iv.end)] = True
    return out


def test_audio_only_api_gives_a_timeline_and_curves_like_the_text_path(en_speech, en_result):
    r = animate(en_speech.path, lang="en-US", use_model=False)
    assert r.timing == "audio-only" and r.alignment.meta["aligner"] == "builtin-unitloop"
    assert all("class" in p.attrs and 0.0 <= p.attrs["confidence"] <= 1.0 for p in r.phones)
    assert r.visemes.end == r.alignment.duration and r.animation.n_frames == en_result.animation.n_frames
    # where there is speech at all: the text path's timings (an independent reference) agree
    d = r.alignment.duration
    agree = (_speech_frames(r.phones, d) == _speech_frames(en_result.phones, d)).mean()
    assert agree > 0.8


def test_audio_only_cli_without_a_language(en_speech, tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["animate", str(en_speech.path), "-o", str(out), "--no-model", "--format", "json"])
    assert rc == 0, capsys.readouterr().err
    summary = json.loads((out / "hello.summary.json").read_text())
    assert summary["timing"] == "audio-only" and summary["lang"] == "und" and summary["phones"] > 3


def test_text_without_audio_or_language_still_asks_for_the_language(capsys):
    rc = main(["animate", "--text", "hello", "-o", "/tmp/never-written"])
    assert rc == 2 and "--lang" in capsys.readouterr().err
