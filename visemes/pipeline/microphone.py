"""Microphone input for ``visemes live --mic``: the optional ``sounddevice`` package (MIT) over the
PortAudio C library, installed with ``pip install 'visemes[live]'``.

Only the audio source lives here: :class:`Microphone` yields mono float32 blocks as the device
delivers them, and :func:`visemes.pipeline.live_audio.live_frames` turns them into frames exactly
as it does a WAV replayed by :func:`visemes.pipeline.live_audio.wav_blocks`.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from visemes.core.errors import InputError

INSTALL_HINT = "pip install 'visemes[live]'"
PORTAUDIO_HINT = ("install PortAudio (Debian/Ubuntu: sudo apt-get install libportaudio2; Fedora: sudo dnf install "
                  "portaudio; macOS: brew install portaudio)")


def sounddevice() -> Any:
    """The sounddevice module, or an :class:`InputError` naming what is missing and how to install it."""
    try:
        # optional: needs the PortAudio C library, and only microphone input uses it
        import sounddevice as sd
    except ImportError:
        raise InputError(f"Microphone input needs the sounddevice package: {INSTALL_HINT}.") from None
    except OSError as exc:  # sounddevice is installed but cannot load libportaudio
        raise InputError(f"Microphone input needs the PortAudio library, which sounddevice could not load ({exc}): "
                         f"{PORTAUDIO_HINT}.") from None
    return sd


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    sample_rate: int
    default: bool

    def describe(self) -> str:
        mark = "*" if self.default else " "
        return f"{mark} {self.index:3d}  {self.name}  ({self.channels} ch, {self.sample_rate} Hz)"


def input_devices() -> list[InputDevice]:
    """The devices that can record (``*``: the default input)."""
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        default = sd.default.device[0] if isinstance(sd.default.device, (list, tuple)) else sd.default.device
    except Exception as exc:  # PortAudioError and friends: the host has no audio system
        raise InputError(f"Cannot list audio devices ({exc}); {PORTAUDIO_HINT}.") from None
    return [InputDevice(i, str(d["name"]), int(d["max_input_channels"]), int(d["default_samplerate"]), i == default)
            for i, d in enumerate(devices) if int(d["max_input_channels"]) > 0]


def device_arg(device: str | int | None) -> str | int | None:
    """``--device``: an index (digits) or part of a device's name, as sounddevice takes them."""
    if isinstance(device, str) and device.strip().isdigit():
        return int(device)
    return device


class Microphone:
    """An input device as a source of mono float32 blocks of ``hop_s`` (the first channel), for
    ``seconds`` (None: until the iteration is stopped, e.g. by Ctrl-C)."""

    def __init__(self, device: str | int | None = None, *, sample_rate: int | None = None, hop_s: float = 0.01,
                 seconds: float | None = None):
        self._sd = sounddevice()
        self.device = device_arg(device)
        try:
            info = self._sd.query_devices(self.device, "input")
        except Exception as exc:  # ValueError (no such device) or PortAudioError (no audio system)
            raise InputError(f"No audio input device {device!r} ({exc}); `visemes live --list-devices` lists them.") from None
        if int(info["max_input_channels"]) < 1:
            raise InputError(f"Device {info['name']!r} cannot record; `visemes live --list-devices` lists those that can.")
        self.name = str(info["name"])
        self.sample_rate = int(sample_rate or info["default_samplerate"])
        self.hop = max(1, int(round(hop_s * self.sample_rate)))
        self.seconds = seconds
        self.overflows = 0  # blocks PortAudio reported as lost (the reader fell behind)

    def __iter__(self) -> Iterator[np.ndarray]:
        blocks: queue.Queue[np.ndarray] = queue.Queue()

        def callback(indata, frames, time_info, status) -> None:  # PortAudio's thread: copy and hand over
            if status and getattr(status, "input_overflow", False):
                self.overflows += 1
            blocks.put(np.array(indata[:, 0], np.float32))

        limit = None if self.seconds is None else int(round(self.seconds * self.sample_rate))
        got = 0
        try:
            stream = self._sd.InputStream(device=self.device, channels=1, samplerate=self.sample_rate,
                                          blocksize=self.hop, dtype="float32", callback=callback)
        except Exception as exc:
            raise InputError(f"Cannot open audio input {self.name!r} at {self.sample_rate} Hz ({exc}).") from None
        with stream:
            while limit is None or got < limit:
                try:
                    block = blocks.get()
                except KeyboardInterrupt:  # Ctrl-C ends the take: the reader then flushes the last frames
                    return
                if limit is not None:
                    block = block[: limit - got]
                got += len(block)
                yield block
