"""Turn what users give (text + language, IPA phones, ``.lab``/``.txt`` files) into a Transcript.

Text goes through the language pack's G2P (``visemes.lang_packs.load(lang).phonemize``); IPA is taken as given,
one token per phone, with `` | `` or a line break between words.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from visemes.lang_packs import Phonemizer
from visemes.lang_packs import load as load_pack

from visemes.core.errors import AlignmentError, InputError, TranscriptError
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

#: Transcript extensions beside each audio file, in order of preference (MFA reads both).
TRANSCRIPT_EXTENSIONS = (".lab", ".txt")


#: More characters per second of audio than anyone speaks (fast English is ~20, including spaces):
#: longer texts are refused before the (slow, for megabytes) G2P, not after it.
MAX_CHARS_PER_SECOND = 60
MIN_CHARS_ALLOWED = 200


def check_text_fits(text: object, seconds: float) -> None:
    """AlignmentError (as from the aligner itself) when ``text`` is far too long to be spoken in ``seconds``."""
    if isinstance(text, str) and len(text) > MIN_CHARS_ALLOWED + MAX_CHARS_PER_SECOND * seconds:
        raise AlignmentError(
            f"The text has {len(text):,} characters but the audio lasts {seconds:.1f} s (nobody speaks more than "
            f"~{MAX_CHARS_PER_SECOND} characters a second); check that the transcript belongs to this audio."
        )


def from_text(text: str, lang: str, pack: Phonemizer | None = None) -> Transcript:
    """G2P through the language pack for ``lang`` (or the already loaded ``pack``)."""
    if not isinstance(text, str):
        raise TranscriptError(f"The text must be a string, got {type(text).__name__}; give the words spoken as str.")
    if not text.strip():
        raise TranscriptError("The text is empty; give the words spoken in the audio.")
    if pack is None:
        if not lang:
            raise InputError("Text needs a language to be phonemized; pass lang='en' (or the right code).")
        pack = load_pack(lang)
    transcript = pack.phonemize(text)
    if not isinstance(transcript, Transcript):
        raise TranscriptError(f"The {lang or pack!r} pack returned {type(transcript).__name__}, not a Transcript.")
    return transcript


def from_ipa(ipa: str, lang: str | None = None) -> Transcript:
    """Space-separated IPA phones; `` | `` or a line break between words, else one word."""
    return Transcript.from_ipa(ipa, lang)


def from_phones(phones: Sequence[str] | Transcript | str, lang: str | None = None) -> Transcript:
    """A list of IPA tokens (one word), an IPA string (see :func:`from_ipa`) or a ready Transcript."""
    if isinstance(phones, Transcript):
        return phones if lang is None or phones.lang else Transcript(phones.words, lang)
    if isinstance(phones, str):
        return from_ipa(phones, lang)
    # a dict or a set would "work" as an iterable and silently align its keys in arbitrary order
    if not isinstance(phones, Sequence) or isinstance(phones, (bytes, bytearray)):
        raise TranscriptError(
            f"Phones must be an IPA string, a list of IPA strings or a Transcript, got {type(phones).__name__}."
        )
    tokens = list(phones)
    if not tokens:
        raise TranscriptError("The phone list is empty; give at least one IPA phone.")
    converted: list[PhoneToken] = []
    for token in tokens:
        if isinstance(token, PhoneToken):
            converted.append(token)
        elif isinstance(token, str):
            if token.strip() == "|":
                raise TranscriptError("Give word breaks ('|') in an IPA string, not inside a phone list.")
            converted.append(PhoneToken(token.strip()))
        else:
            raise TranscriptError(f"Phones must be IPA strings, got {type(token).__name__} ({token!r}).")
    return Transcript((WordPhones("".join(p.symbol for p in converted), tuple(converted)),), lang)


def make_transcript(
    *, text: str | None = None, lang: str | None = None, phones: Sequence[str] | Transcript | str | None = None
) -> Transcript:
    """Exactly one of ``text`` (with ``lang``) or ``phones``."""
    if (text is None) == (phones is None):
        raise InputError("Give either text=... with lang=..., or phones=[...] (IPA), not both or neither.")
    if phones is None:
        return from_text(text or "", lang or "")
    return from_phones(phones, lang)


def read_text_file(path: str | os.PathLike, *, empty_hint: str = "put the spoken words in it") -> str:
    """A transcript file's text (UTF-8, BOM allowed; ``-`` reads standard input); TranscriptError if
    unreadable, not UTF-8 or empty. Decoded strictly: undecodable bytes never reach espeak-ng."""
    name = "standard input" if str(path) == "-" else str(path)
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except OSError as exc:
        raise TranscriptError(f"Cannot read the transcript {name}: {exc.strerror or exc}.") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise TranscriptError(f"The transcript {name} is not UTF-8 text (bad byte at position {exc.start}); "
                              "save it as UTF-8 (e.g. iconv -t UTF-8).") from None
    if not text.strip():
        raise TranscriptError(f"The transcript {path} is empty; {empty_hint}.")
    return text


def read_transcript_file(path: str | os.PathLike, *, ipa: bool, lang: str | None, pack: Phonemizer | None = None) -> Transcript:
    """A ``.lab``/``.txt`` transcript: orthographic text (needs ``lang``) or, with ``ipa``, IPA phones.

    ``pack`` (a loaded language pack) saves loading the pack again for every file of a corpus.
    """
    path = Path(path)
    text = read_text_file(path, empty_hint="write the spoken words (or IPA phones with --ipa)")
    try:
        if ipa:
            return from_ipa(text, lang)
        if not lang and pack is None:
            raise InputError(
                f"{path} holds orthographic text; pass --lang CODE to phonemize it, or --ipa if it holds phones."
            )
        # MFA transcripts put one utterance on one or several lines; words are what matters
        return from_text(" ".join(text.split()), lang or "", pack)
    except TranscriptError as exc:
        raise TranscriptError(f"{path}: {exc}") from None
