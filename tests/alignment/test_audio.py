"""Audio loading: formats, rates, channels, sample types, resampling and every kind of bad file."""

from __future__ import annotations

import os

import numpy as np
import pytest
import soundfile as sf

from visemes.core.audio import load_audio, resample, to_mono
from visemes.core.audio import validate_audio
from visemes.core.errors import AudioError


def _sine(rate: int, seconds: float = 0.5, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.mark.parametrize(
    "ext,subtype,rate",
    [("wav", "PCM_16", 8000), ("wav", "PCM_24", 44100), ("wav", "FLOAT", 96000), ("flac", "PCM_16", 22050),
     ("ogg", "VORBIS", 48000)],
)
def test_reads_formats_and_rates(tmp_path, ext, subtype, rate):
    signal = _sine(rate)
    path = tmp_path / f"a.{ext}"
    sf.write(str(path), signal, rate, subtype=subtype)
    audio, sr = load_audio(path)
    assert sr == rate and audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) == len(signal)
    tolerance = 0.05 if ext == "ogg" else 1e-3  # vorbis is lossy
    assert np.max(np.abs(audio - signal)) < tolerance


def test_stereo_is_averaged_to_mono(tmp_path):
    left, right = _sine(16000), np.zeros(8000, np.float32)
    sf.write(str(tmp_path / "s.wav"), np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    audio, _ = load_audio(tmp_path / "s.wav")
    np.testing.assert_allclose(audio, 0.5 * left, atol=1e-6)


def test_resamples_to_target_rate_keeping_the_tone(tmp_path):
    sf.write(str(tmp_path / "a.wav"), _sine(44100, 1.0, 1000.0), 44100, subtype="PCM_16")
    audio, sr = load_audio(tmp_path / "a.wav", target_rate=16000)
    assert sr == 16000 and abs(len(audio) - 16000) <= 1
    peak_hz = np.argmax(np.abs(np.fft.rfft(audio))) * 16000 / len(audio)
    assert abs(peak_hz - 1000.0) < 2.0


def test_resample_identity_and_bounds():
    x = _sine(16000)
    assert resample(x, 16000, 16000) is not None and np.array_equal(resample(x, 16000, 16000), x)
    with pytest.raises(AudioError, match="between 8000 and 96000"):
        resample(x, 16000, 4000)


@pytest.mark.parametrize("dtype", [np.int16, np.int32, np.float64])
def test_in_memory_arrays_of_any_sample_type(dtype):
    x = _sine(16000)
    if np.issubdtype(dtype, np.integer):
        arr = (x * np.iinfo(dtype).max).astype(dtype)
    else:
        arr = x.astype(dtype)
    mono, sr = to_mono(arr, 16000)
    assert mono.dtype == np.float32 and sr == 16000
    np.testing.assert_allclose(mono, x, atol=1e-3)


def test_channels_first_arrays_are_accepted():
    x = _sine(16000)
    mono, _ = to_mono(np.stack([x, x]), 16000)  # 2 x samples
    np.testing.assert_allclose(mono, x, atol=1e-6)


@pytest.mark.parametrize(
    "audio,rate,message",
    [
        (np.zeros(0, np.float32), 16000, "empty"),
        (np.zeros(16000, np.float32), 4000, "not supported"),
        (np.zeros(16000, np.float32), 192000, "not supported"),
        (np.array([0.0, np.nan] * 8000, np.float32), 16000, "NaN or infinite"),
        (np.zeros(100, np.float32), 16000, "at least 50 ms"),
        (np.zeros((2, 2, 2), np.float32), 16000, "1-D"),
    ],
)
def test_bad_arrays_are_refused(audio, rate, message):
    with pytest.raises(AudioError, match=message):
        validate_audio(audio, rate)


def test_missing_empty_and_garbage_files(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        load_audio(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioError, match="empty"):
        load_audio(tmp_path / "empty.wav")
    (tmp_path / "junk.wav").write_bytes(b"this is not audio at all" * 20)
    with pytest.raises(AudioError, match="Cannot read .*junk.wav.*ffmpeg"):
        load_audio(tmp_path / "junk.wav")
    with pytest.raises(AudioError, match="folder"):
        load_audio(tmp_path)


@pytest.mark.parametrize("ext", ["wav", "flac"])
def test_truncated_files_are_reported(tmp_path, ext):
    full = tmp_path / f"full.{ext}"
    sf.write(str(full), _sine(16000, 1.0), 16000, subtype="PCM_16")
    data = full.read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioError, match="truncated|corrupt"):
        load_audio(cut)


def test_non_finite_float_file(tmp_path):
    x = _sine(16000)
    x[100] = np.inf
    sf.write(str(tmp_path / "inf.wav"), x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="inf.wav.*NaN or infinite"):
        load_audio(tmp_path / "inf.wav")


def test_unsupported_file_rate(tmp_path):
    sf.write(str(tmp_path / "low.wav"), _sine(4000), 4000, subtype="PCM_16")
    with pytest.raises(AudioError, match="4000 Hz is not supported"):
        load_audio(tmp_path / "low.wav")


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "locked.wav"
    sf.write(str(path), _sine(16000), 16000)
    # simulate a file without read permission (tests may run as root, who can read anything)
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(path) else True)
    with pytest.raises(AudioError, match="locked.wav is not readable"):
        load_audio(path)
