"""The audio track of a video (MP4, MOV, MKV, WebM, AVI...) or of an audio container libsndfile cannot
read (M4A, AAC, WMA...), decoded by the ffmpeg binary bundled with imageio-ffmpeg.

libsndfile (soundfile) reads WAV, FLAC, OGG and MP3 itself; everything else goes through ffmpeg,
which writes the first audio track as a float32 WAV into a temporary file (seekable, so the WAV
header carries the true length, rate and channel count), read back with soundfile.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from visemes.core.errors import AudioError

#: Extensions read through ffmpeg (the corpus runner's media besides AUDIO_EXTENSIONS).
FFMPEG_EXTENSIONS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".m4a", ".aac", ".wma", ".3gp")
#: Longest ffmpeg may take for one file (an hour of video decodes in well under a minute).
DECODE_TIMEOUT_S = 600


def find_ffmpeg() -> str | None:
    """Path of the ffmpeg binary shipped in the imageio-ffmpeg wheel (or on PATH), or None."""
    try:
        import imageio_ffmpeg  # heavy/optional: imageio-ffmpeg, only to find the bundled binary

        return imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError):
        return shutil.which("ffmpeg")


def container_extension(path: Path) -> str | None:
    """The extension a media container is known by from its first bytes (ISO media ``ftyp``: MP4/MOV/M4A
    -> "mp4"; EBML: MKV/WebM -> "mkv"; ``RIFF....AVI `` -> "avi"), or None: for files whose name says
    nothing (uploads)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError:
        return None
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "mkv"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "avi"
    return None


def is_container(path: Path) -> bool:
    """True for a file to decode with ffmpeg: by extension, or by its first bytes, whatever its name."""
    return path.suffix.lower() in FFMPEG_EXTENSIONS or container_extension(path) is not None


def decode_audio_track(path: Path) -> tuple[np.ndarray, int]:
    """The first audio track of ``path`` as float32 samples x channels and its sample rate.

    Raises :class:`AudioError` when ffmpeg is missing, the file has no audio track, or ffmpeg cannot
    read it."""
    exe = find_ffmpeg()
    if exe is None:
        raise AudioError(
            f"{path} needs ffmpeg to read its audio track and none was found; install imageio-ffmpeg "
            "(pip install imageio-ffmpeg) or convert the file to WAV first."
        )
    fd, tmp = tempfile.mkstemp(prefix="visemes-track-", suffix=".wav")
    os.close(fd)
    try:
        cmd = [exe, "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(path),
               "-map", "0:a:0", "-vn", "-sn", "-dn", "-c:a", "pcm_f32le", "-f", "wav", tmp]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=DECODE_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise AudioError(f"ffmpeg took over {DECODE_TIMEOUT_S} s to decode {path}; convert it to WAV first.") from None
        except OSError as exc:
            raise AudioError(f"Cannot run ffmpeg ({exe}) to read {path}: {exc}; convert the file to WAV first.") from None
        if done.returncode != 0:
            message = done.stderr.strip()
            if "matches no streams" in message:
                raise AudioError(
                    f"{path} has no audio track (a video without sound); give a file with the speech in it."
                ) from None
            last = message.splitlines()[-1] if message else f"exit code {done.returncode}"
            raise AudioError(f"Cannot read the audio of {path} with ffmpeg ({last}); check the file plays, or "
                             "convert it to WAV first.") from None
        try:
            data, rate = sf.read(tmp, dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"ffmpeg decoded {path} into unreadable audio ({exc}); convert it to WAV first.") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    if data.shape[0] == 0:
        raise AudioError(f"The audio track of {path} holds no samples; re-export the file from its source.")
    return data, int(rate)
