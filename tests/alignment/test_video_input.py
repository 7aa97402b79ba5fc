"""Video input: the audio track of MP4/MOV/MKV files, decoded by the bundled ffmpeg (imageio-ffmpeg), is
accepted wherever audio is (load_audio -> align, animate, plot, corpora); a video without sound is a
clear error. The videos are made here with imageio-ffmpeg's own binary from a known WAV."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from visemes.core.audio import load_audio
from visemes.core.errors import AudioError
from visemes.core.media import find_ffmpeg
from visemes.pipeline.corpus import discover

FFMPEG = find_ffmpeg()
pytestmark = pytest.mark.skipif(FFMPEG is None, reason="imageio-ffmpeg binary not installed")


def _signal(rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    sig = 0.4 * np.sin(2 * np.pi * 220 * t) * (t > 0.2) * (t < 0.7) + 0.2 * np.sin(2 * np.pi * 880 * t) * (t >= 0.7)
    return sig.astype(np.float32)


def make_video(path: Path, wav: Path | None, audio_codec: str = "aac", seconds: float = 1.0) -> Path:
    """A tiny 32x32 video (black frames at 25 fps), with ``wav`` as its sound track when given."""
    cmd = [FFMPEG, "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i", f"color=c=black:s=32x32:r=25:d={seconds}"]
    if wav is not None:
        cmd += ["-i", str(wav), "-map", "0:v", "-map", "1:a", "-c:a", audio_codec]
    cmd += ["-c:v", "mpeg4" if path.suffix != ".mkv" else "ffv1", "-t", str(seconds), str(path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    return path


@pytest.fixture()
def wav(tmp_path):
    path = tmp_path / "speech.wav"
    sf.write(str(path), _signal(22050), 22050, subtype="PCM_16")
    return path


def test_lossless_mov_track_decodes_to_the_same_samples(tmp_path, wav):
    video = make_video(tmp_path / "clip.mov", wav, audio_codec="pcm_s16le")
    audio, rate = load_audio(video)
    reference, ref_rate = load_audio(wav)
    assert rate == ref_rate == 22050
    assert len(audio) == len(reference)
    np.testing.assert_allclose(audio, reference, atol=1.0 / 32768)


@pytest.mark.parametrize("name", ["clip.mp4", "clip.mkv", "clip.m4v"])
def test_lossy_tracks_keep_rate_length_and_level(tmp_path, wav, name):
    video = make_video(tmp_path / name, wav, audio_codec="aac" if not name.endswith(".mkv") else "libvorbis")
    audio, rate = load_audio(video)
    reference, _ = load_audio(wav)
    assert rate == 22050
    assert abs(len(audio) - len(reference)) <= 0.05 * rate  # the codec's frame padding, at most 50 ms
    n = min(len(audio), len(reference))
    rms = lambda x: float(np.sqrt(np.mean(x ** 2)))  # noqa: E731
    assert abs(rms(audio[:n]) - rms(reference[:n])) < 0.1 * rms(reference[:n])
    # the tone starts where it starts in the WAV (the encoder's priming delay is trimmed)
    onset = np.argmax(np.abs(audio) > 0.2) / rate
    assert abs(onset - 0.2) < 0.01


def test_resampled_to_a_target_rate(tmp_path, wav):
    audio, rate = load_audio(make_video(tmp_path / "clip.mov", wav, audio_codec="pcm_s16le"), target_rate=16000)
    assert rate == 16000 and abs(len(audio) - 16000) <= 1


def test_a_container_is_recognised_by_its_bytes_whatever_its_name(tmp_path, wav):
    video = make_video(tmp_path / "clip.mp4", wav)
    renamed = video.rename(tmp_path / "clip.bin")
    audio, rate = load_audio(renamed)
    assert rate == 22050 and len(audio) > 0.9 * rate


def test_a_video_without_sound_is_a_clear_error(tmp_path):
    video = make_video(tmp_path / "silent.mp4", None)
    with pytest.raises(AudioError, match="has no audio track"):
        load_audio(video)


def test_a_damaged_video_is_a_clear_error(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"junk" * 50)
    with pytest.raises(AudioError, match="Cannot read the audio of .*bad.mp4 with ffmpeg"):
        load_audio(bad)


def test_corpora_find_videos_beside_their_transcripts(tmp_path, wav):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    make_video(corpus / "a.mp4", wav)
    make_video(corpus / "b.MOV", wav, audio_codec="pcm_s16le")
    (corpus / "a.lab").write_text("a", encoding="utf-8")
    (corpus / "b.lab").write_text("a", encoding="utf-8")
    items = discover(corpus, tmp_path / "out")
    assert [(i.rel, i.audio.name, i.transcript.name) for i in items] == [("a", "a.mp4", "a.lab"), ("b", "b.MOV", "b.lab")]


def test_align_and_animate_commands_take_a_video(tmp_path, wav):
    from visemes.cli.main import main

    video = make_video(tmp_path / "clip.mp4", wav)
    assert main(["align", str(video), "--phones", "a | i", "-o", str(tmp_path / "clip.TextGrid")]) == 0
    from visemes.core.textgrid import read_textgrid

    assert list(read_textgrid(tmp_path / "clip.TextGrid").phones.labels) == ["a", "i"]
    assert main(["animate", str(video), "--phones", "a | i", "--lang", "en", "--format", "json",
                 "-o", str(tmp_path / "anim")]) == 0
    assert (tmp_path / "anim" / "clip.json").is_file()
