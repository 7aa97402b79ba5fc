"""Quality checks of an animation result: numbers and flags a user should see before trusting it.

Flags:

* ``transcript_mismatch``: the aligner says the transcript is unlikely to match (``meta["mismatch"]``),
  or the phones would need an impossible speaking rate for the speech in the audio;
* ``uneven_speaking_rate``: a long file was aligned in windows and one window's phones per second of
  speech are far from the whole file's (``meta["uneven_rate"]``): words were moved across a join;
* ``no_speech``: the audio holds (almost) no voiced sound — noise, hum or an empty take;
* ``unaligned_speech``: voiced speech outside every aligned phone — words missing from the transcript,
  or an alignment that went wrong there;
* ``low_confidence``: many phones have a low aligner confidence;
* ``clipped_audio``: samples at full scale.

The voicing detector is a normalized-autocorrelation pitch check on pre-emphasized 40 ms frames
(hand-written: ~20 lines of numpy, where a pitch-tracking dependency would be heavy), processed in
blocks so an hour of audio needs a few MB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import soxr

from visemes.core.timeline import Alignment

#: Phone confidence below this counts as low; a share of low phones above the limit raises a flag.
LOW_CONFIDENCE, LOW_CONFIDENCE_SHARE_LIMIT = 0.5, 0.25
#: Share of samples at full scale above which the audio counts as clipped.
CLIPPED_SHARE_LIMIT = 1e-3
#: Phones per second of speech outside this range means the transcript cannot be this audio's.
PLAUSIBLE_PHONE_RATE = (2.0, 30.0)
#: Less voiced sound than this (seconds, and share of the non-silent frames) is "no speech".
MIN_VOICED_SECONDS, MIN_VOICED_SHARE = 0.15, 0.05
#: Voiced sound outside every aligned phone beyond this (seconds and share of all voiced sound) means
#: the transcript leaves speech out.
MAX_UNEXPLAINED_SECONDS, MAX_UNEXPLAINED_SHARE = 0.3, 0.25

_RATE = 16_000
_HOP, _WIN = 160, 640           # 10 ms hop, 40 ms window at 16 kHz
_PITCH_HZ = (60.0, 400.0)
_VOICED_R = 0.45                # normalized autocorrelation peak of a voiced frame
_LOUD_DB = 40.0                 # frames within this many dB of the loudest count as non-silent


def voicing(audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """``(voiced, loud)``: per 10 ms frame, whether it is voiced and whether it is non-silent.

    Works through the audio a minute at a time (resampled to 16 kHz per block), so memory stays small
    on hour-long files."""
    x = np.asarray(audio, np.float32)
    n_out = max(0, (int(round(len(x) * _RATE / sample_rate)) - _WIN) // _HOP + 1)
    voiced = np.zeros(n_out, bool)
    energy = np.zeros(n_out, np.float32)
    window = np.hanning(_WIN).astype(np.float32)
    nfft = 2 * _WIN
    wac = np.fft.irfft(np.abs(np.fft.rfft(window, nfft)) ** 2, nfft)[:_WIN]
    wac = np.maximum(wac / wac[0], 1e-3)  # unbias the lag-dependent shrinkage of a windowed autocorrelation
    lo, hi = int(_RATE / _PITCH_HZ[1]), int(_RATE / _PITCH_HZ[0]) + 1
    offsets = np.arange(_WIN)
    block_frames = 6000  # one minute of 10 ms frames
    for f0 in range(0, n_out, block_frames):
        f1 = min(n_out, f0 + block_frames)
        # input samples covering output frames f0..f1 (plus a margin for the resampler's edges)
        s0 = max(0, int((f0 * _HOP - _WIN) * sample_rate / _RATE))
        s1 = min(len(x), int(((f1 - 1) * _HOP + 2 * _WIN) * sample_rate / _RATE) + 1)
        seg = x[s0:s1]
        if sample_rate != _RATE:
            seg = soxr.resample(seg, sample_rate, _RATE).astype(np.float32)
        # Pre-emphasis whitens low-frequency noise (rumble, brown noise), which would otherwise look periodic.
        seg = np.append(seg[:1], seg[1:] - 0.97 * seg[:-1]).astype(np.float32)
        shift = int(round(s0 * _RATE / sample_rate))
        starts = np.arange(f0, f1) * _HOP - shift
        ok = (starts >= 0) & (starts + _WIN <= len(seg))
        idx = np.flatnonzero(ok)
        if idx.size == 0:
            continue
        frames = seg[starts[idx][:, None] + offsets[None, :]]
        frames = frames - frames.mean(axis=1, keepdims=True)
        energy[f0 + idx] = np.mean(frames**2, axis=1)
        ac = np.fft.irfft(np.abs(np.fft.rfft(frames * window, nfft)) ** 2, nfft)[:, :_WIN]
        r = ac[:, lo:hi] / np.maximum(ac[:, :1], 1e-12) / wac[lo:hi]
        voiced[f0 + idx] = r.max(axis=1) > _VOICED_R
    if n_out == 0:
        return voiced, voiced.copy()
    db = 10.0 * np.log10(energy + 1e-12)
    loud = db > db.max() - _LOUD_DB
    return voiced & loud, loud


def clipped_share(audio: np.ndarray, level: float = 0.999, block: int = 1 << 20) -> float:
    """Share of samples at full scale, counted a block at a time (no full-length temporary arrays)."""
    x = np.asarray(audio)
    hits = sum(int(np.count_nonzero(np.abs(x[i : i + block]) >= level)) for i in range(0, len(x), block))
    return hits / max(len(x), 1)


def _unexplained_voicing(voiced: np.ndarray, phones: list) -> float:
    """Seconds of voiced frames that no aligned phone covers (with 50 ms of slack at each phone edge)."""
    covered = np.zeros(len(voiced), bool)
    hop = _HOP / _RATE
    for p in phones:
        a = max(0, int((p.start - 0.05) / hop))
        b = min(len(voiced), int(np.ceil((p.end + 0.05) / hop)))
        covered[a:b] = True
    return float(np.sum(voiced & ~covered) * hop)


#: QA flags the aligner decides itself (its meta), with what the user should do about each.
ALIGNER_FLAGS = {
    "mismatch": ("transcript_mismatch", "The aligner found the transcript unlikely to match the audio; check the text "
                                        "belongs to this file (the words with attr 'suspect' fit worst)."),
    "uneven_rate": ("uneven_speaking_rate", "Part of this long file was aligned at a speaking rate far from the rest: "
                                            "words were probably moved across a window join. Check the timeline plot "
                                            "(meta 'chunk_starts' and 'chunk_rates' say where)."),
}


def aligner_flags(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """``(flag, note)`` for every aligner decision set in ``meta``."""
    return [flag for key, flag in ALIGNER_FLAGS.items() if meta.get(key)]


def assess(alignment: Alignment, audio: np.ndarray | None, sample_rate: int | None, timing: str) -> dict[str, Any]:
    """QA numbers, ``flags`` and human ``notes`` (each note says what to do)."""
    flags: list[str] = []
    notes: list[str] = []
    meta = alignment.meta
    phones = list(alignment.phones)
    conf = [float(p.attrs["confidence"]) for p in phones if "confidence" in p.attrs]
    low_share = (sum(c < LOW_CONFIDENCE for c in conf) / len(conf)) if conf else None

    def flag(name: str, note: str) -> None:
        if name not in flags:
            flags.append(name)
            notes.append(note)

    for name, note in aligner_flags(meta):
        flag(name, note)
    if timing == "aligned" and phones:
        span = phones[-1].end - phones[0].start
        speech = sum(p.duration for p in phones)
        lo, hi = PLAUSIBLE_PHONE_RATE
        if len(phones) / max(speech, 1e-6) > hi or len(phones) / max(span, 1e-6) < lo:
            flag("transcript_mismatch", f"{len(phones)} phones in {span:.2f} s of speech is not a plausible speaking "
                                        "rate; the transcript probably does not match the audio.")
    voiced_seconds = voiced_share = None
    clipped = None
    if audio is not None and sample_rate and len(audio):
        voiced, loud = voicing(audio, sample_rate)
        voiced_seconds = float(voiced.sum() * _HOP / _RATE)
        voiced_share = float(voiced.sum() / max(loud.sum(), 1))
        if timing != "synthesized" and (voiced_seconds < MIN_VOICED_SECONDS or voiced_share < MIN_VOICED_SHARE):
            flag("no_speech", f"Only {voiced_seconds:.2f} s of voiced sound found: the audio seems to be noise or "
                              "silence, so the timings are guesses. Check the file.")
        elif timing == "aligned" and phones:
            unexplained = _unexplained_voicing(voiced, phones)
            if unexplained > MAX_UNEXPLAINED_SECONDS and unexplained > MAX_UNEXPLAINED_SHARE * voiced_seconds:
                flag("unaligned_speech", f"{unexplained:.2f} s of voiced speech lies outside every aligned word: the "
                                         "transcript leaves words out, or the alignment failed there. Check the "
                                         "transcript and the timeline plot.")
        clipped = clipped_share(audio)
        if clipped > CLIPPED_SHARE_LIMIT:
            flag("clipped_audio", f"{clipped:.2%} of samples are at full scale (clipped); record at a lower level "
                                  "if you can.")
    if low_share is not None and low_share > LOW_CONFIDENCE_SHARE_LIMIT:
        # audio-only mode has no transcript to check: its confidence is the recogniser's own
        what = ("the recording (noise, music, several voices) and the --lang hint" if timing == "audio-only"
                else "the transcript, the language and the recording")
        flag("low_confidence", f"{low_share:.0%} of phones have confidence below {LOW_CONFIDENCE}; check {what}.")
    confidence = meta.get("confidence")
    return {
        "flags": flags,
        "notes": notes,
        "confidence": None if confidence is None else round(float(confidence), 4),
        "low_confidence_share": None if low_share is None else round(low_share, 4),
        "clipped_share": None if clipped is None else round(clipped, 6),
        "voiced_seconds": None if voiced_seconds is None else round(voiced_seconds, 3),
        "voiced_share": None if voiced_share is None else round(voiced_share, 4),
    }
