"""Audio in: read files with soundfile, downmix, check, resample with soxr.

Every failure is an :class:`~visemes.core.errors.AudioError` that names the file and says what to do.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from visemes.core.errors import AudioError
from visemes.core.media import FFMPEG_EXTENSIONS, decode_audio_track, is_container

MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 8_000, 96_000
#: Largest sample magnitude accepted. Float audio lies in [-1, 1] (a little over when clipped); beyond
#: this it is not audio but mis-scaled or corrupt data, and squaring it overflows float32 (1e30 -> inf).
MAX_AMPLITUDE = 1e5
#: More channels than this in a 2-D array means it is not (samples x channels) audio.
MAX_CHANNELS = 64

#: Extensions read by libsndfile through soundfile.
AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg")
#: Extensions the corpus runner treats as media: audio files, and videos/containers whose audio track
#: the bundled ffmpeg decodes (visemes.core.media).
MEDIA_EXTENSIONS = AUDIO_EXTENSIONS + FFMPEG_EXTENSIONS


def load_audio(path: str | os.PathLike, target_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float32; resample to ``target_rate`` when given.

    Any rate from 8 to 96 kHz, any channel count (averaged to mono), integer or float samples. Videos
    and other containers (MP4, MOV, MKV, WebM, M4A...: :func:`visemes.core.media.is_container`) give
    their first audio track, decoded by the bundled ffmpeg.
    Raises :class:`AudioError` for a missing, empty, unreadable, truncated or non-finite file, and for a
    video without an audio track.
    """
    path = Path(path)
    if not path.exists():
        raise AudioError(f"Audio file {path} does not exist; check the path.")
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file; give an audio file (.wav, .flac, .ogg) or a video with sound.")
    if not os.access(path, os.R_OK):
        raise AudioError(f"Audio file {path} is not readable (permission denied); check its permissions.")
    size = path.stat().st_size
    if size == 0:
        raise AudioError(f"Audio file {path} is empty (0 bytes); re-export or re-record it.")
    if is_container(path):
        data, rate = decode_audio_track(path)
        return _finish(path, data, rate, target_rate)
    mpeg = _looks_like_mpeg(path)
    try:
        with _quiet_native_stderr(mpeg):
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        if mpeg:  # libsndfile's reason for a bad MP3 ("File does not exist ...") misleads
            raise AudioError(f"{path} is a damaged or unsupported MP3; convert it to WAV or FLAC with ffmpeg.") from None
        raise AudioError(
            f"Cannot read {path} as audio ({_sf_reason(exc)}); give a WAV, FLAC or OGG file (or MP3, or a video "
            "such as MP4/MOV with an audio track; convert other formats with ffmpeg first)."
        ) from None
    if info.format == "WAV" or info.format == "WAVEX":
        _check_wav_complete(path, size)
    try:
        with _quiet_native_stderr(mpeg):
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(
            f"{path} is corrupt or truncated ({_sf_reason(exc)}); re-export the file from its source."
        ) from None
    if info.frames > 0 and data.shape[0] < info.frames:
        raise AudioError(
            f"{path} is truncated: its header promises {info.frames} samples but only {data.shape[0]} could "
            "be decoded; re-export the file from its source."
        )
    if data.shape[0] == 0:
        raise AudioError(f"{path} holds no audio samples; re-export or re-record it.")
    return _finish(path, data, int(rate), target_rate)


def _finish(path: Path, data: np.ndarray, rate: int, target_rate: int | None) -> tuple[np.ndarray, int]:
    """Decoded samples x channels -> checked mono float32, resampled to ``target_rate`` when given."""
    try:
        mono = validate_audio(data, int(rate))
    except AudioError as exc:
        raise AudioError(f"{path}: {exc}") from None
    if target_rate is not None and target_rate != rate:
        mono = resample(mono, int(rate), int(target_rate))
        rate = target_rate
    return mono, int(rate)


def check_sample_rate(sample_rate: object) -> int:
    """``sample_rate`` as an int Hz (a whole float is fine); AudioError for text, fractions, bools or None."""
    whole = isinstance(sample_rate, (int, np.integer)) or (
        isinstance(sample_rate, (float, np.floating)) and float(sample_rate).is_integer())
    if isinstance(sample_rate, bool) or not whole:
        raise AudioError(f"The sample rate must be a whole number of Hz (e.g. 16000), got {sample_rate!r}.")
    return int(sample_rate)


def validate_audio(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 in [-1, 1]-ish, finite, of a supported rate; raises :class:`AudioError` otherwise."""
    if not isinstance(sample_rate, (int, np.integer)) or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE:
        raise AudioError(
            f"Sample rate {sample_rate!r} Hz is not supported; give audio between {MIN_SAMPLE_RATE} and "
            f"{MAX_SAMPLE_RATE} Hz (resample it first)."
        )
    try:
        array = np.asarray(audio)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise AudioError(f"The audio is not an array of samples ({exc}); give a 1-D or 2-D numeric array.") from None
    if array.dtype.kind not in "iuf":
        raise AudioError(
            f"The audio must hold numbers (int or float samples), got an array of {array.dtype}; decode the "
            "audio first (soundfile.read) or pass the file path."
        )
    if array.size == 0:
        raise AudioError("The audio is empty (0 samples); check the file was recorded and not truncated.")
    if array.dtype.kind == "u":  # unsigned PCM (8-bit WAV) is centred on half its range
        half = (int(np.iinfo(array.dtype).max) + 1) / 2
        array = (array.astype(np.float32) - half) / half
    elif array.dtype.kind == "i":
        info = np.iinfo(array.dtype)
        array = array.astype(np.float32) / max(abs(info.min), info.max)
    array = array.astype(np.float32, copy=False)
    shape = array.shape
    if array.ndim == 2:
        # samples x channels (soundfile's layout); channels x samples when the first axis is the short one
        if array.shape[0] < array.shape[1]:
            array = array.T
        if array.shape[1] > MAX_CHANNELS:
            raise AudioError(
                f"A 2-D audio array of shape {shape} would have {array.shape[1]} channels (at most "
                f"{MAX_CHANNELS}); give samples x channels (or channels x samples) audio."
            )
        array = array.mean(axis=1)
    elif array.ndim != 1:
        raise AudioError(f"Audio must be 1-D (mono) or 2-D (samples x channels), got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise AudioError("The audio contains NaN or infinite samples; the file is corrupt or was decoded wrongly.")
    peak = float(np.max(np.abs(array)))
    if peak > MAX_AMPLITUDE:
        raise AudioError(
            f"The audio's largest sample is {peak:.3g}, far outside [-1, 1]; it is corrupt or mis-scaled "
            "(scale float audio into [-1, 1], e.g. divide 16-bit values by 32768)."
        )
    min_seconds = 0.05
    if array.shape[0] < int(min_seconds * sample_rate):
        raise AudioError(
            f"The audio is {array.shape[0] / sample_rate * 1000:.1f} ms long; at least {min_seconds * 1000:.0f} ms "
            "is needed to align anything."
        )
    return np.ascontiguousarray(array)



def to_mono(audio: np.ndarray, sample_rate: int, target_rate: int | None = None) -> tuple[np.ndarray, int]:
    """In-memory counterpart of :func:`load_audio`: validate, downmix, optionally resample."""
    mono = validate_audio(audio, sample_rate)
    rate = int(sample_rate)
    if target_rate is not None and target_rate != rate:
        mono = resample(mono, rate, int(target_rate))
        rate = int(target_rate)
    return mono, rate


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr, high quality) of mono float32 audio."""
    for rate in (from_rate, to_rate):
        if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            raise AudioError(
                f"Cannot resample to or from {rate} Hz; rates between {MIN_SAMPLE_RATE} and {MAX_SAMPLE_RATE} "
                "Hz are supported."
            )
    if from_rate == to_rate:
        return np.asarray(audio, dtype=np.float32)
    out = soxr.resample(np.asarray(audio, dtype=np.float32), from_rate, to_rate, quality="HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


def audio_duration(path: str | os.PathLike) -> float:
    """Duration in seconds from the header only (cheap), or 0.0 when the header is unreadable."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        return 0.0
    return info.frames / info.samplerate if info.samplerate else 0.0


def _looks_like_mpeg(path: Path) -> bool:
    """MP3/MP2 by name or by its first bytes (an ID3 tag or an MPEG frame sync)."""
    if path.suffix.lower() in (".mp3", ".mp2", ".mpga"):
        return True
    try:
        with path.open("rb") as fh:
            head = fh.read(3)
    except OSError:
        return False
    return head[:3] == b"ID3" or (len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


@contextlib.contextmanager
def _quiet_native_stderr(enabled: bool) -> Iterator[None]:
    """Silence C-level stderr (file descriptor 2) for the block: libsndfile's mpg123 prints "Note: ..."
    lines on damaged MP3s, before (and besides) the error we report."""
    saved = _dup_stderr() if enabled else None
    if saved is None:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _dup_stderr() -> int | None:
    """A copy of file descriptor 2, or None when there is no usable stderr (closed, or replaced)."""
    try:
        sys.stderr.flush()
        return os.dup(2)
    except (OSError, ValueError, AttributeError):
        return None


def _sf_reason(exc: Exception) -> str:
    text = str(exc).strip()
    # libsndfile prefixes "Error opening '<path>': "; the path is already in our message
    return text.split("': ", 1)[-1] if "': " in text else text


def _check_wav_complete(path: Path, size: int) -> None:
    """Raise if a WAV's data chunk is shorter than its header says.

    Hand-written because libsndfile silently shortens such files instead of reporting them.
    """
    with path.open("rb") as fh:
        header = fh.read(12)
        if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
            return
        offset = 12
        while offset + 8 <= size:
            fh.seek(offset)
            chunk = fh.read(8)
            if len(chunk) < 8:
                return
            chunk_id, chunk_size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
            if chunk_id == b"data":
                # 0 and 0xFFFFFFFF mark streams written without a final size (and RF64): nothing to check
                if chunk_size in (0, 0xFFFFFFFF) or header[:4] == b"RF64":
                    return
                available = size - (offset + 8)
                if available < chunk_size:
                    raise AudioError(
                        f"{path} is truncated: its WAV header promises {chunk_size} bytes of audio but the "
                        f"file holds only {available}; re-copy or re-export the file."
                    )
                return
            offset += 8 + chunk_size + (chunk_size & 1)
