"""`visemes live --wav / --mic`: audio alone in real time -> JSON-line frames (visemes.pipeline.live_audio),
with the microphone faked (a stand-in `sounddevice` module whose input stream plays a recording)."""

from __future__ import annotations

import json
import sys
import threading
import types

import numpy as np
import pytest
import soundfile as sf

from visemes import models
from visemes.cli.main import main
from visemes.core.curves import frame_count
from visemes.core.errors import InputError
from visemes.core.timeline import Alignment, Tier
from visemes.pipeline import microphone
from visemes.pipeline.live_audio import AudioStream, live_frames, wav_blocks
from visemes.pipeline.stream import OFFLINE_TOLERANCE, as_arrays
from visemes.speech.synthesis import synthesize

TEXT = "Hello there. How are you today?"


@pytest.fixture(scope="module")
def speech():
    audio, sr, _ = synthesize(TEXT, "en-us")
    return np.asarray(audio, np.float32), sr


def fake_sounddevice(audio: np.ndarray, sr: int) -> types.ModuleType:
    """A `sounddevice` whose one input device delivers ``audio`` block by block from its own thread,
    as PortAudio calls the callback (2-D float32 blocks, one column per channel), then silence."""
    sd = types.ModuleType("sounddevice")
    devices = [{"name": "Speakers", "max_input_channels": 0, "default_samplerate": 48000.0},
               {"name": "Fake USB Mic", "max_input_channels": 1, "default_samplerate": float(sr)}]
    sd.default = types.SimpleNamespace(device=(1, 0))
    sd.opened = []

    def query_devices(device=None, kind=None):
        if device is None and kind is None:
            return devices
        if device is None:
            return devices[sd.default.device[0]]
        if isinstance(device, int):
            return devices[device]
        found = [d for d in devices if device.lower() in d["name"].lower()]
        if not found:
            raise ValueError(f"No input device matching {device!r}")
        return found[0]

    class InputStream:
        def __init__(self, device, channels, samplerate, blocksize, dtype, callback):
            assert channels == 1 and dtype == "float32" and samplerate == sr
            self.blocksize, self.callback, self.stop = blocksize, callback, threading.Event()
            sd.opened.append(device)

        def _play(self):
            padded = np.concatenate([audio, np.zeros(sr, np.float32)])  # then a second of silence
            for a in range(0, len(padded) - self.blocksize + 1, self.blocksize):
                if self.stop.is_set():
                    return
                self.callback(padded[a : a + self.blocksize, None].copy(), self.blocksize, None, None)

        def __enter__(self):
            self.thread = threading.Thread(target=self._play, daemon=True)
            self.thread.start()
            return self

        def __exit__(self, *exc):
            self.stop.set()
            self.thread.join()

    sd.query_devices, sd.InputStream = query_devices, InputStream
    return sd


def test_microphone_and_wav_give_the_same_frames_and_match_offline(speech, monkeypatch):
    audio, sr = speech
    model = models.load()
    wav_stream = AudioStream(model, sr, 30.0, lang="en-us")
    from_wav = list(live_frames(wav_blocks(audio, sr, speed=0), wav_stream))
    monkeypatch.setitem(sys.modules, "sounddevice", fake_sounddevice(audio, sr))
    mic = microphone.Microphone("usb", seconds=len(audio) / sr)
    assert mic.sample_rate == sr and mic.name == "Fake USB Mic"
    from_mic = list(live_frames(iter(mic), AudioStream(model, mic.sample_rate, 30.0, lang="en-us")))
    assert [f.to_json() for f in from_mic] == [f.to_json() for f in from_wav]
    duration = len(audio) / sr
    assert [f.index for f in from_wav] == list(range(frame_count(duration, 30.0)))
    # the speech is cut at its pause: frames of the first sentence are final before the take ends
    assert from_wav[5].ready_at < duration - 0.3
    # what the stream emits equals one offline call on the phones it recognised
    phones = tuple(wav_stream.predictor.phones)
    assert len(phones) > 8 and all(p.attrs.get("class") for p in phones)
    offline = model.predict(Alignment((Tier("phones", phones),), duration, {"lang": "en-us"}), 30.0)
    got = as_arrays(from_wav)
    for k in ("visemes", "blendshapes", "articulation"):
        assert np.abs(got[k] - getattr(offline, k).values).max() < OFFLINE_TOLERANCE
    # the mouth opens in the vowels and rests in the pause
    jaw = np.array([f.articulation["jaw_open"] for f in from_wav])
    assert jaw.max() > 0.3 and jaw.min() < 0.15


def test_wav_blocks_pace_in_real_time():
    audio = np.zeros(8000, np.float32)
    now = [0.0]
    waits = []

    def sleep(dt):
        waits.append(dt)
        now[0] += dt

    blocks = list(wav_blocks(audio, 16000, hop_s=0.1, speed=2.0, sleep=sleep, clock=lambda: now[0]))
    assert [len(b) for b in blocks] == [1600] * 5
    assert now[0] == pytest.approx(0.5 / 2)  # 0.5 s of audio at double speed
    with pytest.raises(InputError):
        next(wav_blocks(audio, 16000, speed=-1))


def test_cli_mic_list_devices_and_errors(speech, monkeypatch, tmp_path, capsys):
    audio, sr = speech
    sd = fake_sounddevice(audio, sr)
    monkeypatch.setitem(sys.modules, "sounddevice", sd)
    assert main(["live", "--list-devices"]) == 0
    listed = capsys.readouterr().out
    assert "Fake USB Mic" in listed and "Speakers" not in listed and listed.lstrip().startswith("*")
    out = tmp_path / "mic.jsonl"
    assert main(["live", "--mic", "--device", "1", "--seconds", "1.0", "--rules", "--lang", "en-us", "-o", str(out)]) == 0
    frames = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [f["frame"] for f in frames] == list(range(frame_count(1.0, 30.0))) and sd.opened == [1]
    assert abs(sum(frames[10]["visemes"].values()) - 1) < 1e-3
    assert main(["live", "--mic", "--device", "no such mic"]) == 2
    assert "No audio input device" in capsys.readouterr().err
    assert main(["live", "--wav", "a.wav", "--mic"]) == 2
    assert "one source" in capsys.readouterr().err
    assert main(["live", "--device", "1", "--events", "e.json"]) == 2
    assert "--mic" in capsys.readouterr().err


def test_missing_sounddevice_or_portaudio_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails: not installed
    with pytest.raises(InputError, match=r"sounddevice package: pip install 'visemes\[live\]'"):
        microphone.Microphone()
    monkeypatch.delitem(sys.modules, "sounddevice")

    class NoPortAudio:  # sounddevice's own failure when libportaudio is absent
        def find_spec(self, name, path=None, target=None):
            if name == "sounddevice":
                raise OSError("PortAudio library not found")
            return None

    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(InputError, match="PortAudio library.*libportaudio2"):
        microphone.input_devices()


def test_wav_cli_replays_a_recording(speech, tmp_path):
    audio, sr = speech
    wav = tmp_path / "take.wav"
    sf.write(wav, audio, sr)
    out = tmp_path / "frames.jsonl"
    assert main(["live", "--wav", str(wav), "--speed", "0", "--rules", "-o", str(out)]) == 0  # no language: universal
    frames = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [f["frame"] for f in frames] == list(range(frame_count(len(audio) / sr, 30.0)))
