"""Streaming from TTS timing events (visemes.pipeline.stream): readers, equality with offline, latency."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visemes import lang_packs
from visemes.core.curves import frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Interval, Tier
from visemes.mouth.coarticulation import animate_phones
from visemes.pipeline.stream import (
    OFFLINE_TOLERANCE,
    RULES_EXACT_LOOKAHEAD_S,
    EventStream,
    as_arrays,
    replay,
    stream,
)
from visemes.pipeline.tts_events import Onset, espeak_event_lines, read_onsets
from visemes.speech.synthesis import synthesize, timed_phonemes

FPS = 30.0


def test_polly_speech_marks():
    text = "\n".join(json.dumps(m) for m in [
        {"time": 6, "type": "sentence", "start": 0, "end": 5, "value": "Mom"},
        {"time": 6, "type": "word", "start": 0, "end": 3, "value": "Mom"},
        {"time": 6, "type": "viseme", "value": "p"}, {"time": 100, "type": "viseme", "value": "a"},
        {"time": 250, "type": "viseme", "value": "p"}, {"time": 330, "type": "viseme", "value": "sil"},
    ])
    assert read_onsets(text) == [Onset(0.006, "p"), Onset(0.1, "a"), Onset(0.25, "p"), Onset(0.33, None)]
    with pytest.raises(InputError, match="Unknown Polly viseme"):
        read_onsets('{"time": 1, "type": "viseme", "value": "Q"}', "polly")


def test_azure_viseme_events():
    # 100-ns ticks; 21 = p/b/m, 2 = ɑ, 0 = silence; both the Python SDK's and the C# spelling
    text = json.dumps([{"audio_offset": 500000, "viseme_id": 21}, {"AudioOffset": 1500000, "VisemeId": 2},
                       {"audio_offset": 3000000, "viseme_id": 0}])
    assert read_onsets(text) == [Onset(0.05, "p"), Onset(0.15, "ɑ"), Onset(0.3, None)]
    with pytest.raises(InputError, match="viseme_id"):
        read_onsets('[{"audio_offset": 1, "viseme_id": 22}]', "azure")


def test_piper_durations_with_id_map():
    # Piper interleaves pad ids "_" (their time belongs to the phone before); ^ and $ are rests
    doc = {"phoneme_ids": [1, 0, 20, 0, 14, 0, 2], "phoneme_id_samples": [2205, 0, 4410, 441, 6615, 0, 2205],
           "sample_rate": 22050, "phoneme_id_map": {"_": [0], "^": [1], "$": [2], "h": [20], "a": [14]}}
    got = read_onsets(json.dumps(doc))
    assert [o.phone for o in got] == [None, "h", "a", None, None]
    assert np.allclose([o.time for o in got], [0.0, 0.1, 0.32, 0.62, 0.72])
    with pytest.raises(InputError, match="durations"):
        read_onsets(json.dumps({"phonemes": ["a", "b"], "durations": [0.1]}), "piper")


def test_espeak_event_lines_round_trip():
    audio, sr, events = synthesize("hello world", "en-us")
    onsets = read_onsets("\n".join(espeak_event_lines(events, sr, len(audio))))
    timed = timed_phonemes(events, len(audio))
    starts = {round(o.time * sr) for o in onsets if o.phone}
    assert {a for _, a, _ in timed} <= starts
    assert onsets[-1] == Onset(len(audio) / sr, None)


def _espeak_stream_case(text: str, voice: str):
    audio, sr, events = synthesize(text, voice)
    onsets = read_onsets("\n".join(espeak_event_lines(events, sr, len(audio))), "espeak")
    # the offline reference: the same phones as an alignment, predicted in one call
    phones = tuple(Interval(a.time, b.time, a.phone) for a, b in zip(onsets, onsets[1:])
                   if a.phone and b.time > a.time)
    return onsets, Alignment((Tier("phones", phones),), onsets[-1].time, {"lang": voice})


@pytest.mark.parametrize("text,voice", [("The quick brown fox jumps over the lazy dog.", "en-us"),
                                        ("Dos cervezas, por favor. Muchas gracias.", "es")])
def test_stream_equals_offline_and_states_its_latency(tiny_model, text, voice):
    onsets, alignment = _espeak_stream_case(text, voice)
    offline = tiny_model.predict(alignment, FPS)
    frames = list(stream(onsets, tiny_model, FPS, lang=voice))
    assert [f.index for f in frames] == list(range(frame_count(alignment.duration, FPS)))
    got = as_arrays(frames)
    for key, ref in (("visemes", offline.visemes), ("blendshapes", offline.blendshapes),
                     ("articulation", offline.articulation)):
        assert np.abs(got[key] - ref.values).max() <= OFFLINE_TOLERANCE, key
        assert list(frames[0].__getattribute__(key)) == list(ref.channels)
    # latency: at least the lookahead (except the flush at the end of speech), at most the lookahead
    # plus the longest phone (its end is a model input)
    look = tiny_model.cfg.lookahead_s
    longest = max(b.time - a.time for a, b in zip(onsets, onsets[1:]))
    lat = np.array([f.ready_at - f.time for f in frames if f.ready_at < alignment.duration])
    assert lat.min() >= look - 1e-6 and lat.max() <= look + longest + 1.0 / FPS


def test_clock_ticks_finish_frames_in_pauses_without_changing_them(tiny_model):
    onsets = [Onset(0.0, None), Onset(0.4, "m"), Onset(0.5, "a"), Onset(0.7, None), Onset(1.6, "o"),
              Onset(1.75, None), Onset(2.0, None)]
    plain = list(stream(onsets, tiny_model, FPS, lang="en-us"))
    s = EventStream(tiny_model, FPS, lang="en-us")
    ticked = []
    for onset, nxt in zip(onsets, onsets[1:]):
        ticked += s.feed(onset)
        t = onset.time
        while t + 0.01 < nxt.time:
            t += 0.01
            ticked += s.tick(t)
    ticked += s.finish(onsets[-1].time)
    assert [f.index for f in ticked] == [f.index for f in plain]
    assert np.abs(as_arrays(ticked)["articulation"] - as_arrays(plain)["articulation"]).max() <= OFFLINE_TOLERANCE
    # in the long pause (0.7 .. 1.6 s) frames come out at the lookahead, not at the next onset
    pause = [f for f in ticked if 0.75 <= f.time <= 1.4]
    assert pause and max(f.ready_at - f.time for f in pause) <= tiny_model.cfg.lookahead_s + 0.011 + 1 / FPS
    assert min(f.ready_at for f in [f for f in plain if 0.75 <= f.time <= 1.4]) >= 1.6


def test_stream_rejects_onsets_out_of_order(tiny_model):
    s = EventStream(tiny_model, FPS)
    s.feed(Onset(0.5, "a"))
    with pytest.raises(InputError, match="before the previous"):
        s.feed(Onset(0.2, "b"))


@pytest.mark.parametrize("text,voice", [("The quick brown fox jumps over the lazy dog. Who knew?", "en-us"),
                                        ("Dos cervezas, por favor.", "es")])
def test_rules_stream_equals_offline_at_its_exact_lookahead_and_approximates_at_80_ms(text, voice):
    onsets, alignment = _espeak_stream_case(text, voice)
    offline = animate_phones(alignment.phones, lang_packs.load(voice), FPS, alignment.duration)
    exact = as_arrays(list(stream(onsets, "rules", FPS, lang=voice, lookahead_s=RULES_EXACT_LOOKAHEAD_S)))
    for key in ("visemes", "blendshapes", "articulation"):
        assert np.abs(exact[key] - getattr(offline, key).values).max() <= OFFLINE_TOLERANCE, key
    # 80 ms truncates the rules' anticipation (up to 0.6 s): the stated tolerance (docs/guide.md)
    frames = list(stream(onsets, "rules", FPS, lang=voice))
    near = as_arrays(frames)
    assert [f.index for f in frames] == list(range(offline.n_frames))
    assert np.abs(near["visemes"] - offline.visemes.values).max() <= 0.35
    assert (near["visemes"].argmax(1) == offline.visemes.values.argmax(1)).mean() >= 0.90
    assert np.abs(near["articulation"] - offline.articulation.values).mean() <= 0.03
    assert np.abs(near["articulation"] - offline.articulation.values).max() > 1e-3  # it is an approximation
    with pytest.raises(InputError, match="language"):
        EventStream(None, FPS)


def test_replay_paces_on_the_clock_and_gives_the_stream_frames(tiny_model):
    onsets = [Onset(0.0, None), Onset(0.3, "p"), Onset(0.4, "a"), Onset(0.6, None), Onset(1.2, None)]
    now = [0.0]
    waits = []

    def sleep(dt):  # a fake clock: sleeping advances it exactly
        waits.append(dt)
        now[0] += dt

    frames = list(replay(onsets, EventStream(tiny_model, FPS), speed=2.0, sleep=sleep, clock=lambda: now[0]))
    assert now[0] == pytest.approx(1.2 / 2)  # real time at double speed
    plain = list(stream(onsets, tiny_model, FPS))
    assert [f.index for f in frames] == [f.index for f in plain]
    assert np.abs(as_arrays(frames)["visemes"] - as_arrays(plain)["visemes"]).max() <= OFFLINE_TOLERANCE
    with pytest.raises(InputError, match="speed"):
        list(replay(onsets, EventStream(tiny_model, FPS), speed=-1))
