"""Speech synthesis with exact phone timing: espeak-ng through ctypes (see :mod:`visemes.speech.espeak`).

Two uses: text-only timing (how long each phone of a sentence takes when spoken), and synthetic
speech with gold phone boundaries for tests and benchmarks.

:func:`speak` returns audio plus an :class:`~visemes.core.timeline.Alignment` whose ``words`` and ``phones``
tiers carry exactly the language pack's transcript (``visemes.lang_packs.load(lang).phonemize(text)``: same
symbols, same order, tones/stress in attributes). Times come from espeak-ng's phoneme events (sample
positions in the returned audio) and are carried onto the pack's phones with
:func:`visemes.speech.time_transfer.transfer_times`, so normalization differences never break timing. Pauses
stay gaps between words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from visemes.speech.espeak import EspeakEvent, engine
from visemes.core.errors import AlignmentError, InputError, TranscriptError
from visemes.speech.time_transfer import transfer_times_detailed
from visemes.core.timeline import PHONES, WORDS, Alignment, Interval, Tier, Transcript
from visemes.lang_packs import SpeakingPack
from visemes.lang_packs import load as load_pack


#: Longest text timed by synthesis in one call (about 20 minutes of speech): the time transfer's table
#: grows with the square of the length, and 1 MB of text would take hours of synthesis and gigabytes.
MAX_TEXT_CHARS = 20_000


def check_text(text: object) -> str:
    """``text`` if it is a non-empty, encodable string of at most :data:`MAX_TEXT_CHARS` characters."""
    if not isinstance(text, str):
        raise TranscriptError(f"The text must be a string, got {type(text).__name__}.")
    if not text.strip():
        raise TranscriptError("Nothing to speak: the text is empty. Give at least one word.")
    if len(text) > MAX_TEXT_CHARS:
        raise TranscriptError(
            f"The text is {len(text):,} characters long; text-only timing takes at most {MAX_TEXT_CHARS:,} at a "
            "time (about 20 minutes of speech). Split it into parts (paragraphs) and time each."
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: undecodable bytes from argv or a lenient decode
        raise TranscriptError(
            f"The text holds characters that are not valid Unicode (position {exc.start}); it was probably read "
            "with the wrong encoding. Give UTF-8 text."
        ) from None
    return text


@dataclass(frozen=True, eq=False)
class Spoken:
    """Synthesized speech: float32 mono ``audio`` in [-1, 1] at ``sample_rate``, and its timing."""

    audio: np.ndarray
    sample_rate: int
    alignment: Alignment

    @property
    def duration(self) -> float:
        return len(self.audio) / self.sample_rate


def synthesize(text: str, voice: str, rate: int = 175, pitch: int = 50) -> tuple[np.ndarray, int, list[EspeakEvent]]:
    """Raw espeak-ng synthesis: ``(float32 audio, sample rate, events)``.

    ``voice`` is any espeak-ng voice name, with an optional variant (``"en-us+f3"``); ``rate`` is in
    words per minute (80..900), ``pitch`` 0..100. Events are in order; ``event.sample`` indexes ``audio``.
    Raises TranscriptError for empty text, InputError for an unknown voice or out-of-range parameters, and
    BackendUnavailableError when the espeak-ng library cannot be loaded.
    """
    check_text(text)
    if not isinstance(voice, str) or not voice.strip():
        raise InputError(f"Give an espeak-ng voice name such as 'en-us', got {voice!r}.")
    samples, sample_rate, events = engine().synthesize(text, voice.strip(), rate, pitch)
    audio = samples.astype(np.float32) / 32768.0
    return audio, sample_rate, events


def timed_phonemes(events: Sequence[EspeakEvent], n_samples: int) -> list[tuple[str, int, int]]:
    """espeak phoneme events as ``(ipa_name, start_sample, end_sample)``, pauses left out.

    A phoneme lasts until the next phoneme event (a pause event included) or the end of the audio.
    """
    phonemes = [e for e in events if e.kind == "phoneme"]
    # at fast rates espeak can report a phoneme a few samples *before* the previous event: keep the
    # positions non-decreasing so phones never overlap (the late one just starts where the other ends)
    positions, latest = [], 0
    for ev in phonemes:
        latest = max(latest, min(ev.sample, n_samples))
        positions.append(latest)
    out = []
    for k, ev in enumerate(phonemes):
        start = positions[k]
        end = positions[k + 1] if k + 1 < len(phonemes) else n_samples
        if ev.name.strip() and end > start:
            out.append((ev.name.strip(), start, end))
    return out


def alignment_from_events(
    transcript: Transcript,
    events: Sequence[EspeakEvent],
    sample_rate: int,
    n_samples: int,
    meta: Mapping[str, Any] | None = None,
) -> Alignment:
    """Words/phones alignment of ``transcript`` timed by espeak ``events`` (of audio ``n_samples`` long)."""
    if n_samples <= 0:
        raise AlignmentError("espeak-ng produced no audio for this text, so there is nothing to time.")
    timed = timed_phonemes(events, n_samples)
    tokens = transcript.phones
    word_of = [w for w, word in enumerate(transcript.words) for _ in word.phones]
    transferred = transfer_times_detailed(
        [(name, float(a), float(b)) for name, a, b in timed], [t.symbol for t in tokens], word_of
    )
    spans = transferred.spans
    phones = [
        Interval(start / sample_rate, end / sample_rate, tok.symbol, tok.attrs)
        for tok, (start, end) in zip(tokens, spans)
    ]
    words, k = [], 0
    for word in transcript.words:
        mine = phones[k : k + len(word.phones)]
        words.append(Interval(mine[0].start, mine[-1].end, word.text))
        k += len(word.phones)
    # untimed_phones: transcript phones with no counterpart among espeak's events (they share a
    # neighbour's time); a high count means the pack's transcript and the synthesized speech differ
    info = {"source": "espeak-ng", "untimed_phones": transferred.n_unmatched, **dict(meta or {})}
    if transcript.lang and "lang" not in info:
        info["lang"] = transcript.lang
    return Alignment((Tier(WORDS, tuple(words)), Tier(PHONES, tuple(phones))), n_samples / sample_rate, info)


def speak(text: str, lang: str, *, rate: int = 175, pitch: int = 50, voice: str | None = None) -> Spoken:
    """Synthesize ``text`` in language ``lang`` and time the pack's transcript of it.

    ``voice`` overrides the pack's espeak-ng voice (e.g. a variant ``"en-us+m3"``); the transcript still
    comes from the pack. The alignment's phones are exactly ``visemes.lang_packs.load(lang).phonemize(text)``.
    """
    check_text(text)
    return speak_with_pack(text, load_pack(lang), rate=rate, pitch=pitch, voice=voice)


def speak_with_pack(text: str, pack: SpeakingPack, *, rate: int = 175, pitch: int = 50, voice: str | None = None) -> Spoken:
    """:func:`speak` with a pack already loaded (a LanguagePack, or any SpeakingPack)."""
    check_text(text)
    transcript = pack.phonemize(text)
    voice = voice or pack.voice
    # what the pack's backend read (kana for kanji, toned pinyin), so that espeak says the transcript
    spoken = pack.spoken_text(text)
    audio, sample_rate, events = synthesize(spoken, voice, rate, pitch)
    meta = {"lang": pack.code, "voice": voice, "rate": rate, "pitch": pitch}
    alignment = alignment_from_events(transcript, events, sample_rate, len(audio), meta)
    return Spoken(audio, sample_rate, alignment)
