"""Fast, deterministic aligners and audio for the runner/CLI tests (importable by worker processes).

``EvenAligner`` finds the voiced span by frame energy and shares it evenly among the phones, so a test
knows the exact output. ``PooledAligner`` implements the corpus protocol with a threshold computed
over *all* prepared files, and records where each step ran. ``BatchFakeAligner`` implements
``align_many``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from visemes.alignment.base import Aligner, BatchItem
from visemes.core.audio import load_audio
from visemes.core.errors import AlignmentError
from visemes.core.timeline import PHONES, WORDS, Alignment, Interval, Tier, Transcript

RATE = 16_000
FRAME = 160  # 10 ms at 16 kHz


def tone_file(path, spans, duration=1.0, rate=RATE, channels=1, subtype="PCM_16", amplitude=0.5) -> None:
    """Write a file that is silent except for 220 Hz tone bursts over ``spans`` [(start_s, end_s[, amp])]."""
    t = np.arange(int(duration * rate)) / rate
    signal = np.zeros_like(t)
    for span in spans:
        start, end = span[0], span[1]
        amp = span[2] if len(span) > 2 else amplitude
        on = (t >= start) & (t < end)
        signal[on] = amp * np.sin(2 * np.pi * 220 * t[on])
    data = np.repeat(signal[:, None], channels, axis=1) if channels > 1 else signal
    sf.write(str(path), data.astype(np.float32), rate, subtype=subtype)


def frame_energy(audio: np.ndarray) -> np.ndarray:
    n = len(audio) // FRAME
    return np.sqrt(np.mean(audio[: n * FRAME].reshape(n, FRAME) ** 2, axis=1))


def even_alignment(energy: np.ndarray, threshold: float, transcript: Transcript, duration: float) -> Alignment:
    loud = np.flatnonzero(energy > threshold)
    if loud.size == 0:
        raise AlignmentError("no speech found (the audio is silent)")
    start, end = loud[0] * FRAME / RATE, (loud[-1] + 1) * FRAME / RATE
    phones = transcript.phones
    edges = np.linspace(start, end, len(phones) + 1)
    phone_ivs = [Interval(edges[i], edges[i + 1], p.symbol, {"confidence": 0.9}) for i, p in enumerate(phones)]
    word_ivs, i = [], 0
    for word in transcript.words:
        n = len(word.phones)
        word_ivs.append(Interval(edges[i], edges[i + n], word.text))
        i += n
    return Alignment((Tier(WORDS, tuple(word_ivs)), Tier(PHONES, tuple(phone_ivs))), duration,
                     {"confidence": 0.9, "mismatch": False})


class EvenAligner(Aligner):
    name = "fake-even"
    sample_rate = RATE

    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        return even_alignment(frame_energy(audio), 0.05, transcript, len(audio) / sample_rate)


@dataclass(frozen=True)
class FakePrepared:
    energy: np.ndarray
    duration: float
    transcript: Transcript
    pid: int


@dataclass(frozen=True)
class FakeParams:
    threshold: float
    n_files: int
    pid: int


class PooledAligner(EvenAligner):
    """The corpus protocol: the threshold is half the mean loud-frame energy pooled over every file."""

    name = "fake-pooled"

    def prepare(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> FakePrepared:
        if sample_rate != RATE:
            raise AssertionError(f"the runner must resample to {RATE} Hz, got {sample_rate}")
        return FakePrepared(frame_energy(audio), len(audio) / sample_rate, transcript, os.getpid())

    def adapt(self, prepared: Sequence[FakePrepared]) -> FakeParams:
        energy = np.concatenate([p.energy for p in prepared])
        return FakeParams(0.5 * float(energy[energy > 1e-3].mean()), len(prepared), os.getpid())

    def align_transcript(self, audio: np.ndarray, sample_rate: int, transcript: Transcript) -> Alignment:
        prepared = self.prepare(audio, sample_rate, transcript)
        return self.decode(prepared, self.adapt([prepared]))

    def decode(self, prepared: FakePrepared, params: FakeParams) -> Alignment:
        result = even_alignment(prepared.energy, params.threshold, prepared.transcript, prepared.duration)
        return result.with_meta(adapted_on=params.n_files, adapt_pid=params.pid, prepare_pid=prepared.pid,
                                decode_pid=os.getpid())


class BatchFakeAligner(EvenAligner):
    """Aligns a whole batch in one call (the shape of the MFA backend)."""

    name = "fake-batch"

    def align_many(self, items: Sequence[BatchItem], jobs: int = 1) -> dict[str, Alignment | Exception]:
        out: dict[str, Alignment | Exception] = {}
        for item in items:
            audio, rate = load_audio(item.audio_path, RATE)
            try:
                out[item.key] = self.align(audio, rate, item.transcript).with_meta(batch_size=len(items))
            except AlignmentError as exc:
                out[item.key] = exc
        return out


class BatchDecodingAligner(PooledAligner):
    """Adds ``decode_many``; one silent file makes the whole batch raise, as a real batch decoder may."""

    name = "fake-batch-decode"

    def decode_many(self, prepared: Sequence[FakePrepared], params: FakeParams) -> list[Alignment]:
        return [self.decode(p, params).with_meta(decoded_in_batch=len(prepared)) for p in prepared]
