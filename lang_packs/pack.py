"""LanguagePack: text -> Transcript of normalized IPA phones, and phone -> viseme + mouth target."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

from visemes.core.errors import TranscriptError
from visemes.core.timeline import PhoneToken, Transcript, WordPhones

from visemes.lang_packs.fallback import mouth_target, viseme_class
from visemes.lang_packs.features import is_syllabic
from visemes.lang_packs.normalize import Normalizer
from visemes.lang_packs.readers import READERS, VOWELS
from visemes.lang_packs.text import Piece, is_han, orthographic_words, script_pattern


@dataclass(frozen=True)
class PhoneSpec:
    """One phone of a pack: its OCULUS_15 viseme and a mouth target over ARTICULATION_PARAMS."""

    symbol: str
    viseme: str
    target: Mapping[str, float]
    explicit: bool
    note: str = ""


class PhoneLookup(Protocol):
    """What mapping phones to visemes and mouth targets needs of a pack (a :class:`LanguagePack`, or a
    wrapper that changes its specs, such as ``visemes.models.teacher.TargetPack``)."""

    def phone(self, symbol: str) -> PhoneSpec: ...


class Phonemizer(Protocol):
    """What turning text into a Transcript needs of a pack."""

    @property
    def code(self) -> str: ...

    def phonemize(self, text: str) -> Transcript: ...


class SpeakingPack(Phonemizer, Protocol):
    """A :class:`Phonemizer` with the espeak-ng voice that speaks its language (speech synthesis)."""

    @property
    def voice(self) -> str: ...

    def spoken_text(self, text: str) -> str:
        """``text`` as espeak-ng should say it (what the pack's reader read: kana for kanji, toned pinyin)."""
        ...


def fallback_phone(symbol: str) -> PhoneSpec:
    """The feature-derived spec of any IPA phone (``explicit=False``)."""
    return PhoneSpec(symbol, viseme_class(symbol), mouth_target(symbol), explicit=False)


@dataclass(frozen=True)
class LanguagePack:
    code: str
    name: str
    parent: str | None
    voice: str
    backend: str
    scripts: tuple[str, ...]
    inventory: Mapping[str, PhoneSpec]
    normalizer: Normalizer
    words_mode: str = "whitespace"
    reader: str | None = None  # a lang_packs.readers name: text analysis before the backend (pinyin, kana)
    vowels: str | None = None  # a lang_packs.readers.VOWELS name: unwritten vowels restored in context (tashkeel)
    notes: str = ""
    sources: tuple[str, ...] = ()
    wordfreq: str | None = None
    source: str = ""
    #: [mouth] settings of the coarticulation rules for this language (schema.MOUTH_SETTINGS)
    mouth: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    _g2p: Any = field(default=None, compare=False, repr=False)

    @property
    def generic(self) -> bool:
        """True for packs built only from the universal fallback (no pack file)."""
        return not self.inventory

    def phone(self, symbol: str) -> PhoneSpec:
        """The pack's spec for ``symbol``, or the universal fallback's (``explicit=False``)."""
        spec = self.inventory.get(symbol)
        if spec is None:
            spec = self.inventory.get(unicodedata.normalize("NFC", symbol))
        return spec if spec is not None else fallback_phone(symbol)

    def normalize(self, raw_tokens: Sequence[str] | Sequence[tuple[str, str | None]]) -> list[PhoneToken]:
        """Normalize one word's raw espeak IPA tokens (as phonemizer prints them, space separated).

        Tokens may be ``(ipa, espeak_mnemonic)`` pairs; with bare IPA strings, tones come from the IPA
        marker (for Mandarin espeak's IPA writes tones 1 and 4 alike, giving tone "1|4").
        """
        return self.normalizer(list(raw_tokens))

    def phonemize(self, text: str) -> Transcript:
        """Words of ``text`` with normalized IPA phones (tone/stress in PhoneToken.attrs)."""
        if not isinstance(text, str) or not text.strip():
            raise TranscriptError("The text is empty: give at least one word to phonemize.")
        if self._g2p is None:
            raise TranscriptError(f"The {self.code!r} pack reads no text (it has no G2P); give the language of "
                                  "the text with --lang CODE (`visemes langs` lists them).")
        chunks = orthographic_words(text)
        if self.scripts:
            self._check_scripts(chunks)
        words: list[WordPhones] = []
        for chunk, spoken in zip(chunks, self._vowelized(text, chunks)):
            for piece in self._pieces(chunk, spoken):
                pairs = [(raw, self.normalizer(raw)) for raw in self._convert(piece)]
                pairs = [(raw, norm) for raw, norm in pairs if norm]
                if piece.tones is not None:
                    pairs = _with_tones(pairs, piece.tones)
                if pairs:
                    words.extend(self._words_of(piece.surface, pairs))
        if not words:
            raise TranscriptError(
                f"The text {text!r} produced no phones in {self.name} ({self.code}); give words written in "
                f"the language's script ({', '.join(self.scripts) or 'any'})."
            )
        return Transcript(tuple(words), self.code)

    def spoken_text(self, text: str) -> str:
        """``text`` as the backend reads it, for speech synthesis: with a reader, each word replaced by
        what it hands espeak (kana for kanji, toned pinyin), punctuation and spaces kept (pauses)."""
        if not self.reader and not self.vowels:
            return text
        out, pos = [], 0
        chunks = orthographic_words(text)
        for chunk, spoken in zip(chunks, self._vowelized(text, chunks)):
            at = text.find(chunk, pos)
            if at < 0:  # pragma: no cover - chunks are substrings of the text, in order
                continue
            out.append(text[pos:at])
            out.append(" ".join(p.spoken for p in self._pieces(chunk, spoken)))
            pos = at + len(chunk)
        out.append(text[pos:])
        return "".join(out)

    def _vowelized(self, text: str, chunks: list[str]) -> list[str]:
        """What the backend reads for each chunk: the chunk, or it with the vowels the script left out."""
        return VOWELS[self.vowels](text, chunks) if self.vowels else chunks

    def _pieces(self, chunk: str, spoken: str | None = None) -> list[Piece]:
        if self.reader:
            return READERS[self.reader](chunk if spoken is None else spoken)
        return [Piece(chunk, chunk if spoken is None else spoken)]

    def _convert(self, piece: Piece) -> list:
        raw = self._g2p.convert(piece.spoken)
        tone = self.normalizer.tone
        if piece.syllables is not None and piece.spoken != piece.surface and tone is not None:
            toned = sum(1 for word in raw for ipa, _ in word if tone.ipa.search(ipa))
            if toned != piece.syllables:  # the backend did not read the reader's syllables (espeak fell
                raw = self._g2p.convert(piece.surface)  # back to English letters): read the text itself
        return raw

    def _check_scripts(self, chunks: list[str]) -> None:
        """Refuse words espeak cannot read with this voice: it would spell their letters out by name
        ("Hebrew letter shin ...", "Chinese letter" for kanji) and animate that."""
        foreign = [w for w in chunks if not self.reads(w)]
        if foreign:
            readable = ", ".join(dict.fromkeys(self._readable_scripts()))
            raise TranscriptError(
                f"The {self.name} ({self.code}) pack cannot read {', '.join(map(repr, foreign[:3]))}: letters outside "
                f"the scripts it reads ({readable}); remove or transliterate those words, or use the pack of "
                "their language (`visemes langs` lists them)."
            )

    def reads(self, word: str) -> bool:
        """True when every letter of ``word`` is in a script the pack reads (generic packs: always)."""
        if not self.scripts:
            return True
        readable = script_pattern(self._readable_scripts())
        return all(readable.match(ch) for ch in word if unicodedata.category(ch)[0] == "L")

    def _readable_scripts(self) -> tuple[str, ...]:
        # espeak voices read Latin-script words (loans, names) by switching to English, as speakers of
        # the language would; epitran maps only its own script
        return self.scripts + (("Latn",) if self.backend in ("espeak", "g2p2") else ())

    def _words_of(self, chunk: str, pairs: list[tuple[list, list[PhoneToken]]]) -> list[WordPhones]:
        tone = self.normalizer.tone
        if self.words_mode == "syllables" and len(pairs) > 1 and tone is not None:
            # one Han character per toned syllable (one raw token carries one syllable's tone marker):
            # give each espeak word as many characters as it has syllables
            counts = [sum(1 for ipa, _ in raw if tone.ipa.search(ipa)) for raw, _ in pairs]
            if all(is_han(ch) for ch in chunk) and sum(counts) == len(chunk) and all(counts):
                out, pos = [], 0
                for (_, norm), n in zip(pairs, counts):
                    out.append(WordPhones(chunk[pos:pos + n], tuple(norm)))
                    pos += n
                return out
        return [WordPhones(chunk, tuple(p for _, norm in pairs for p in norm))]


def _with_tones(pairs: list[tuple[list, list[PhoneToken]]], tones: tuple[str, ...]) -> list:
    """The reader's tones (one per syllable) on the piece's vowels: each run of syllabic phones is one
    syllable nucleus, taking the next tone. When the nuclei and the tones do not pair up one to one
    (the backend read another number of syllables), the phones keep no tone rather than a wrong one."""
    flat = [p for _, norm in pairs for p in norm]
    nuclei, prev = [], False
    for k, p in enumerate(flat):
        syl = is_syllabic(p.symbol)
        if syl and not prev:
            nuclei.append([])
        if syl:
            nuclei[-1].append(k)
        prev = syl
    if len(nuclei) != len(tones):
        return pairs
    tone_at = {k: tone for run, tone in zip(nuclei, tones) for k in run}
    out, k = [], 0
    for raw, norm in pairs:
        new = []
        for p in norm:
            new.append(PhoneToken(p.symbol, {**p.attrs, "tone": tone_at[k]}) if k in tone_at else p)
            k += 1
        out.append((raw, new))
    return out


def inventory_from(entries: Mapping[str, Any]) -> Mapping[str, PhoneSpec]:
    """PhoneSpecs of a validated [phones] table: explicit viseme, fallback target with overrides."""
    out = {}
    for symbol, e in entries.items():
        target = dict(mouth_target(symbol))
        target.update(e.target)
        out[symbol] = PhoneSpec(symbol, e.viseme, MappingProxyType(target), explicit=True, note=e.note)
    return MappingProxyType(out)
