"""`visemes live --events FILE`: a TTS event file replayed in real time as JSON-line frames."""

from __future__ import annotations

import json
import time

import numpy as np

from visemes import models
from visemes.cli.main import main
from visemes.core.curves import frame_count
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.pipeline.tts_events import POLLY_PHONES, read_onsets

MARKS = [(0, "sil"), (50, "p"), (130, "a"), (300, "p"), (380, "i"), (560, "sil"), (800, "sil")]


def _polly(tmp_path):
    path = tmp_path / "marks.jsonl"
    path.write_text("\n".join(json.dumps({"time": t, "type": "viseme", "value": v}) for t, v in MARKS), "utf-8")
    return path


def test_live_replays_polly_marks_as_frames_equal_to_offline(tmp_path):
    out = tmp_path / "frames.jsonl"
    assert main(["live", "--events", str(_polly(tmp_path)), "--speed", "0", "-o", str(out), "--lang", "en-US"]) == 0
    frames = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    duration = MARKS[-1][0] / 1000
    assert [f["frame"] for f in frames] == list(range(frame_count(duration, 30.0)))
    assert abs(sum(frames[10]["visemes"].values()) - 1) < 1e-3 and "jawOpen" in frames[10]["blendshapes"]
    # offline reference: the same phones (Polly visemes -> representative phones) in one model call
    phones = tuple(Interval(a / 1000, b / 1000, POLLY_PHONES[v]) for (a, v), (b, _) in zip(MARKS, MARKS[1:])
                   if POLLY_PHONES[v])
    ref = models.load().predict(Alignment((Tier("phones", phones),), duration, {"lang": "en-US"}), 30.0)
    got = np.array([[f["articulation"][c] for c in ref.articulation.channels] for f in frames])
    assert np.abs(got - ref.articulation.values).max() < 1e-4  # JSON keeps 5 decimals
    # the closure of /p/ at 50..130 ms is there
    assert max(f["articulation"]["lip_close"] for f in frames[1:5]) > 0.5


def test_live_paces_in_real_time_and_reports_bad_files(tmp_path, capsys):
    events = _polly(tmp_path)
    main(["live", "--events", str(events), "--speed", "0"])  # warm (model load, compilation)
    capsys.readouterr()
    t0 = time.perf_counter()
    assert main(["live", "--events", str(events), "--speed", "2"]) == 0
    elapsed = time.perf_counter() - t0
    assert elapsed >= 0.8 / 2 - 0.02  # 0.8 s of speech at double speed
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == frame_count(0.8, 30.0) and json.loads(lines[0])["frame"] == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"time": 0, "type": "viseme", "value": "Q"}\n', "utf-8")
    assert main(["live", "--events", str(bad)]) == 2
    assert "Unknown Polly viseme" in capsys.readouterr().err
    assert read_onsets(events.read_text("utf-8"))[1].phone == "p"


def test_live_with_the_coarticulation_rules(tmp_path):
    out = tmp_path / "rules.jsonl"
    events = _polly(tmp_path)
    assert main(["live", "--events", str(events), "--rules", "--lang", "en-US", "--speed", "0", "-o", str(out)]) == 0
    frames = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [f["frame"] for f in frames] == list(range(frame_count(0.8, 30.0)))
    # /p/ closes the lips (the rules guarantee contact at the frame nearest its centre, ~90 ms)
    assert frames[3]["articulation"]["lip_close"] >= 0.9
    assert main(["live", "--events", str(events), "--rules"]) == 2  # the rules need the language
