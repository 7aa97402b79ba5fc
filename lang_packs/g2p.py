"""G2P backends: espeak-ng through phonemizer's espeak API (IPA, plus phoneme mnemonics), and epitran.

Both give, for one chunk of text, a list of words, each a list of raw tokens ``(ipa, mnemonic|None)``.

Why phonemizer's ``EspeakAPI`` rather than ``EspeakBackend.phonemize``: the backend returns IPA only,
and espeak's IPA output merges phonemes (Mandarin tones 1 and 4 both print "5"; Arabic ظ and ذ both
print "ð"). The same espeak instance run in IPA mode and in mnemonic mode gives token lists that
align one to one, so packs can read what the IPA loses. Words are phonemized one orthographic word
at a time (so there is no word-count mismatch to ignore) and language-switch flags are removed.
espeak-ng comes only from the ``espeakng-loader`` wheel and is configured at first use, never on import.
"""

from __future__ import annotations

import ctypes
import functools
import re
import threading
import unicodedata

from dataclasses import dataclass, field
from typing import Any

from visemes.core.errors import BackendUnavailableError, G2PError

from visemes.lang_packs.marks import espeak_order, has_vowel_marks

RawToken = tuple[str, "str | None"]
RawWord = list[RawToken]

# espeak's language-switch flags, e.g. "(en)" ... "(cmn)", which phonemizer also removes
_TIE = re.compile("[\u0361\u035c]")
_FLAG = re.compile(r"^\([a-z]{2,3}(-[a-z0-9-]+)?\)$", re.IGNORECASE)
_IPA_MODE = 0x02 | ord("_") << 8   # IPA, phones separated by "_"
_MNEMONIC_MODE = 0x00 | ord("_") << 8  # espeak's ASCII phoneme names, same separator


def espeak_paths() -> tuple[str, str]:
    """(library, data path) of the espeak-ng shipped by espeakng-loader."""
    try:
        import espeakng_loader
    except ImportError as exc:  # pragma: no cover - a declared dependency
        raise BackendUnavailableError(
            "espeak-ng is not available: install the `espeakng-loader` package (pip install espeakng-loader)."
        ) from exc
    return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()


def configure_phonemizer() -> None:
    """Point phonemizer's EspeakWrapper at espeakng-loader's library (call before using EspeakBackend)."""
    from phonemizer.backend.espeak.wrapper import EspeakWrapper  # heavy: phonemizer (~0.15 s), on first G2P

    library, data = espeak_paths()
    EspeakWrapper.set_library(library)
    EspeakWrapper.set_data_path(data)


@functools.lru_cache(maxsize=1)
def espeak_voices() -> frozenset[str]:
    """Every espeak-ng language code (phonemizer's ``EspeakBackend.supported_languages()``)."""
    configure_phonemizer()
    from phonemizer.backend import EspeakBackend  # heavy: phonemizer (~0.15 s)

    return frozenset(EspeakBackend.supported_languages())


class _VoiceStruct(ctypes.Structure):
    # espeak_VOICE of speak_lib.h; `languages` as a raw pointer: it holds several NUL-terminated names
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_void_p), ("identifier", ctypes.c_char_p)]


def voice_identifiers(api: Any) -> dict[str, str]:
    """Lower-case language name -> identifier of the voice that serves it best (lowest priority number).

    espeak_SetVoiceByName takes voice names and identifiers (``French``, ``roa/fr``), not the language
    codes that ``espeak_voices()`` lists (``fr-fr``); this is the lookup espeak itself does by language.
    """
    best: dict[str, tuple[int, str]] = {}
    array = api.list_voices(None)
    i = 0
    while array and array[i]:
        voice = ctypes.cast(array[i], ctypes.POINTER(_VoiceStruct)).contents
        ident = voice.identifier.decode("utf-8", "replace") if voice.identifier else ""
        offset = 0
        while voice.languages and ident:  # priority byte, NUL-terminated name; repeated; ends with a 0 byte
            priority = ctypes.c_ubyte.from_address(voice.languages + offset).value
            if priority == 0:
                break
            lang = ctypes.string_at(voice.languages + offset + 1).decode("utf-8", "replace").lower()
            if lang not in best or priority < best[lang][0]:
                best[lang] = (priority, ident)
            offset += len(lang.encode("utf-8")) + 2
        i += 1
    return {lang: ident for lang, (_, ident) in best.items()}


@functools.lru_cache(maxsize=1)
def espeak_languages() -> frozenset[str]:
    """Every language name espeak-ng's voices declare (lower case): the codes of ``espeak_voices()`` plus
    secondary ones such as ``en``, ``fr``, ``no``, ``pt-pt`` that only appear in a voice's language list."""
    from phonemizer.backend.espeak.api import EspeakAPI  # heavy: phonemizer (~0.15 s)

    return frozenset(voice_identifiers(EspeakAPI(*espeak_paths())))


def _split_clause(out: str) -> list[list[str]]:
    words = []
    for chunk in out.split():
        tokens = [t for t in chunk.split("_") if t and set(t) != {"|"} and not _FLAG.match(t)]
        if tokens:
            words.append(tokens)
    return words


@dataclass
class EspeakG2P:
    """One espeak-ng instance for one voice (phonemizer's EspeakAPI loads a private copy of the library)."""

    voice: str
    mnemonics: bool = False
    _api: Any = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def _instance(self) -> Any:
        if self._api is None:
            from phonemizer.backend.espeak.api import EspeakAPI  # heavy: phonemizer (~0.15 s)

            library, data = espeak_paths()
            api = EspeakAPI(library, data)
            if api.set_voice_by_name(self.voice.encode()) != 0:
                # a language code rather than a voice name (fr-fr -> roa/fr), as visemes.speech.espeak does
                base, plus, variant = self.voice.partition("+")
                ident = voice_identifiers(api).get(base.lower())
                if ident is None or api.set_voice_by_name(f"{ident}{plus}{variant}".encode()) != 0:
                    raise G2PError(f"espeak-ng has no voice or language {self.voice!r}; check the pack's [g2p] "
                                   "voice (see `espeak-ng --voices`).")
            self._api = api
        return self._api

    def _run(self, text: str, mode: int) -> list[list[list[str]]]:
        api = self._instance()
        ptr = ctypes.pointer(ctypes.c_char_p(text.encode("utf-8")))
        clauses = []
        while ptr.contents.value is not None:
            out = api.text_to_phonemes(ptr, 1, mode)
            if out:
                clauses.append(_split_clause(out.decode("utf-8")))
        return clauses

    def convert(self, chunk: str) -> list[RawWord]:
        """Raw words of one chunk of text (no punctuation inside; see lang_packs.text)."""
        chunk = espeak_order(chunk)  # the last step before espeak: Arabic/Hebrew marks in the order it reads
        with self._lock:  # an espeak instance is not re-entrant
            ipa = self._run(chunk, _IPA_MODE)
            mnem = self._run(chunk, _MNEMONIC_MODE) if self.mnemonics else None
        words: list[RawWord] = []
        for c, clause in enumerate(ipa):
            flat_m: list[str] | None = None
            if mnem is not None and c < len(mnem):
                flat_m = [t for w in mnem[c] for t in w]
                if len(flat_m) != sum(len(w) for w in clause):
                    flat_m = None  # the two passes disagree: fall back to IPA only for this clause
            i = 0
            for word in clause:
                toks: RawWord = []
                for tok in word:
                    toks.append((tok, flat_m[i] if flat_m is not None else None))
                    i += 1
                words.append(toks)
        return words


@dataclass
class EpitranG2P:
    """epitran, for languages whose epitran map works offline (never its CEDICT-based Mandarin mode)."""

    code: str
    _epi: Any = field(default=None, init=False, repr=False)
    _seen: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def convert(self, chunk: str) -> list[RawWord]:
        if self._epi is None:
            if self.code.startswith(("cmn-", "yue-")):
                raise G2PError(f"epitran mode {self.code!r} downloads CEDICT; use the espeak backend instead.")
            try:
                import epitran  # heavy: epitran (~0.3 s), only for epitran-backed packs
            except ImportError as exc:  # pragma: no cover - a declared dependency
                raise BackendUnavailableError("epitran is not installed: pip install epitran.") from exc
            from epitran.exceptions import DatafileError, FeatureValueError, MappingError  # heavy: epitran

            try:
                if self.code in epitran.Epitran.special:
                    self._epi = epitran.Epitran(self.code).trans_list
                else:
                    # what Epitran.trans_list does, without the two extra panphon FeatureTables (~3 s each)
                    # that Epitran() builds for features/X-SAMPA we never use
                    from epitran.simple import SimpleEpitran  # heavy: epitran

                    simple = SimpleEpitran(self.code)
                    self._epi = lambda word: simple.ft.segs_safe(simple.transliterate(word))
            except (DatafileError, FeatureValueError, MappingError, OSError, KeyError, ValueError) as exc:
                raise G2PError(
                    f"epitran cannot load its map {self.code!r} ({type(exc).__name__}: {exc}); fix the pack's "
                    "epitran code (e.g. 'hin-Deva'; see epitran's README) or use the espeak backend."
                ) from None
        segs = self._seen.get(chunk)
        if segs is None:  # words repeat (and a Thai reader's compounds share their parts): read each once
            segs = tuple(s for s in self._epi(chunk) if s.strip())
            if len(self._seen) < 100_000:
                self._seen[chunk] = segs
        return [[(s, None) for s in segs]] if segs else []


# g2p2 writes one IPA string per word; these multi-letter phones are kept whole when it is cut into phones
_G2P2_UNITS = ("tʃ", "dʒ", "ts", "dz", "tɕ", "dʑ")
_G2P2_GROUPS = {"he": "semitic", "ar": "semitic"}
_G2P2_SCRIPT = {"he": "HEBREW", "ar": "ARABIC"}  # the model reads only words of this script


_IPA_PHONE = re.compile("(?:" + "|".join(_G2P2_UNITS) + r"|[^\u0300-\u036f\u02b0-\u02c7\u02ce-\u02ff])[\u0300-\u036f\u02b0-\u02c7\u02ce-\u02ff]*")


def split_ipa(word: str) -> list[str]:
    """An unsegmented IPA string -> phones: affricates whole, marks and modifiers (ː ʰ ̃) on their base
    (stress marks ˈ ˌ stay separate: the normalizer moves them to the next phone)."""
    word = _TIE.sub("", unicodedata.normalize("NFC", word))
    return [p for p in _IPA_PHONE.findall(word) if p.strip()]


_G2P2_CACHE = 50_000  # words remembered per pack (a few MB)
_ACUTE, _GRAVE, _MACRON = "\u0301", "\u0300", "\u0304"


def _g2p2_token(phone: str) -> str:
    """One g2p2 phone as the pack normalizer takes it: WikiPron-style stress accents (á) -> ˈa, length
    macrons dropped, punctuation (apostrophes, geresh) dropped."""
    decomposed = unicodedata.normalize("NFD", phone)
    if not any(unicodedata.category(ch)[0] == "L" for ch in decomposed):
        return ""
    stress = "ˈ" if _ACUTE in decomposed else "ˌ" if _GRAVE in decomposed else ""
    base = "".join(ch for ch in decomposed if ch not in (_ACUTE, _GRAVE, _MACRON))
    return stress + unicodedata.normalize("NFC", base)


@dataclass
class G2p2G2P:
    """g2p2 (MIT OR Apache-2.0; models built from WikiPron data, CC BY-SA: see NOTICE) for words written
    without vowel marks; vocalized words (niqqud vowels) go to espeak-ng, which reads the vowels written.

    The model comes only from its installed family package (``g2p2-group-semitic``, a dependency), read
    with importlib.resources and loaded from bytes: g2p2's own lookup would download a missing model
    and writes a cache file, so it is never called."""

    code: str
    voice: str
    _model: Any = field(default=None, init=False, repr=False)
    _espeak: Any = field(default=None, init=False, repr=False)
    _seen: dict = field(default_factory=dict, init=False, repr=False)  # word -> phones: texts repeat words

    def _instance(self) -> Any:
        if self._model is None:
            import importlib.resources
            import lzma

            group = _G2P2_GROUPS.get(self.code)
            module = f"g2p2_group_{group}"
            try:
                from g2p2 import Model  # a declared dependency; imported here: a native library

                blob = (importlib.resources.files(module) / f"{self.code}.g2p.xz").read_bytes()
            except (ImportError, ModuleNotFoundError, FileNotFoundError, TypeError) as exc:
                raise BackendUnavailableError(
                    f"The g2p2 model for {self.code!r} is not installed: pip install g2p2 g2p2-group-{group}."
                ) from exc
            self._model = Model.from_bytes(lzma.decompress(blob))
        return self._model

    def convert(self, chunk: str) -> list[RawWord]:
        script = _G2P2_SCRIPT[self.code]
        if has_vowel_marks(chunk) or not any(unicodedata.name(ch, "").startswith(script) for ch in chunk):
            # vocalized words, and Latin-script loans or digits: espeak-ng reads them
            if self._espeak is None:
                self._espeak = EspeakG2P(self.voice)
            return self._espeak.convert(chunk)
        phones = self._seen.get(chunk)
        if phones is None:
            phones = [t for t in (_g2p2_token(p) for p in split_ipa(self._instance().phonemize(chunk))) if t]
            if len(self._seen) < _G2P2_CACHE:
                self._seen[chunk] = phones
        return [[(p, None) for p in phones]] if phones else []


def make_g2p(backend: str, voice: str, code: str | None, mnemonics: bool) -> Any:
    if backend == "espeak":
        return EspeakG2P(voice, mnemonics)
    if backend == "epitran":
        return EpitranG2P(code or "")
    if backend == "g2p2":
        if (code or "") not in _G2P2_GROUPS:
            raise G2PError(f"The g2p2 backend has no model family for {code!r}; use one of {', '.join(_G2P2_GROUPS)}.")
        return G2p2G2P(code or "", voice)
    raise G2PError(f"Unknown G2P backend {backend!r}; use 'espeak', 'epitran' or 'g2p2'.")


