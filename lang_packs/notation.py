"""Phone labels in IPA, ARPAbet, SAMPA or X-SAMPA -> the project's IPA, and a detector for a list of labels.

Aligners and corpora write phones in several notations: MFA's English ARPAbet models ``DH AH0 N AO1``,
MFA's IPA models ``aj tʲ ɫ ɚ``, older corpora SAMPA ``@ aI eI`` or X-SAMPA ``t_h r\\``. Read as IPA,
ARPAbet labels are not phones at all, and every one became silence (a whole file without a mouth
movement). The tables were written from the published standards, not copied from a library:

* ARPAbet: the CMU Pronouncing Dictionary's 39 phonemes with stress digits 0/1/2 (as MFA writes them),
  plus the TIMIT extras (AX AXR IX UX DX EL EM EN NX Q WH HV; Garofolo et al. 1993). Unstressed AH is
  ə and unstressed ER is ɚ, as CMUdict uses them.
* X-SAMPA: J. C. Wells, "Computer-coding the IPA: a proposed extension of SAMPA" (UCL, 1995).
* SAMPA: Wells et al., per language; its symbols are X-SAMPA's but for language choices
  (English SAMPA writes the approximant ɹ as ``r``): ``SAMPA_OVERRIDES``.
* MFA IPA: MFA's dictionaries spell diphthongs with glides (``aj aw ej ow ɔj əw``); they become the
  vowel sequences the packs use (``aɪ aʊ eɪ oʊ ɔɪ əʊ``).

IPA comes out as the packs write it: NFC, ``ɡ`` (U+0261), no tie bars, stress apart
(:class:`Phone`.stress, for ``PhoneToken.attrs``). Silence labels (``visemes.core.timeline``) give
``None``. A label the notation cannot read raises :class:`~visemes.core.errors.UnknownPhoneError`
naming it: never a silent gap.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from visemes.core.errors import InputError, UnknownPhoneError
from visemes.core.timeline import is_silence_label

from visemes.lang_packs.features import is_known_ipa, is_syllabic

NOTATIONS: tuple[str, ...] = ("ipa", "arpabet", "sampa", "x-sampa")
DISPLAY = {"ipa": "IPA", "arpabet": "ARPAbet", "sampa": "SAMPA", "x-sampa": "X-SAMPA"}


@dataclass(frozen=True)
class Phone:
    ipa: str
    stress: str | None = None  # "primary" | "secondary" | None


@dataclass(frozen=True)
class Detection:
    notation: str
    read: int               # labels (not silence) the notation reads
    total: int              # labels that are not silence
    unread: tuple[str, ...]  # the labels it cannot read

    def describe(self, detected: bool) -> str:
        how = "detected" if detected else "as given"
        return f"{DISPLAY[self.notation]} ({how}; {self.read} of {self.total} labels read)"


# --- ARPAbet ------------------------------------------------------------------------------------
ARPABET: Mapping[str, str] = {
    "AA": "ɑ", "AE": "æ", "AH": "ʌ", "AO": "ɔ", "AW": "aʊ", "AY": "aɪ", "EH": "ɛ", "ER": "ɝ",
    "EY": "eɪ", "IH": "ɪ", "IY": "i", "OW": "oʊ", "OY": "ɔɪ", "UH": "ʊ", "UW": "u",
    "B": "b", "CH": "tʃ", "D": "d", "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "dʒ", "K": "k",
    "L": "l", "M": "m", "N": "n", "NG": "ŋ", "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t",
    "TH": "θ", "V": "v", "W": "w", "Y": "j", "Z": "z", "ZH": "ʒ",
    # TIMIT and older ARPAbet
    "AX": "ə", "AXR": "ɚ", "IX": "ɨ", "UX": "ʉ", "AXH": "ə̥", "DX": "ɾ", "NX": "ɾ̃", "EL": "l̩",
    "EM": "m̩", "EN": "n̩", "ENG": "ŋ̍", "Q": "ʔ", "WH": "ʍ", "HV": "ɦ", "H": "h",
}
_ARPA_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH",
                          "UW", "AX", "AXR", "IX", "UX", "AXH"})
_ARPA_UNSTRESSED = {"AH": "ə", "ER": "ɚ"}
_ARPA = re.compile(r"^([A-Za-z]{1,3})([012])?$")
_STRESS_DIGIT = {"1": "primary", "2": "secondary"}


def _arpabet(label: str) -> Phone | None:
    m = _ARPA.match(label)
    if not m:
        return None
    base, digit = m.group(1).upper(), m.group(2)
    if base not in ARPABET or (digit is not None and base not in _ARPA_VOWELS):
        return None
    ipa = _ARPA_UNSTRESSED.get(base, ARPABET[base]) if digit == "0" else ARPABET[base]
    return Phone(ipa, _STRESS_DIGIT.get(digit or ""))


# --- X-SAMPA and SAMPA ----------------------------------------------------------------------------
XSAMPA_SYMBOLS: Mapping[str, str] = {
    "a": "a", "b": "b", "b_<": "ɓ", "c": "c", "d": "d", "d`": "ɖ", "d_<": "ɗ", "e": "e", "f": "f",
    "g": "ɡ", "g_<": "ɠ", "h": "h", "h\\": "ɦ", "i": "i", "j": "j", "j\\": "ʝ", "k": "k", "l": "l",
    "l`": "ɭ", "l\\": "ɺ", "m": "m", "n": "n", "n`": "ɳ", "o": "o", "p": "p", "p\\": "ɸ", "q": "q",
    "r": "r", "r`": "ɽ", "r\\": "ɹ", "r\\`": "ɻ", "s": "s", "s`": "ʂ", "s\\": "ɕ", "t": "t", "t`": "ʈ",
    "u": "u", "v": "v", "v\\": "ʋ", "w": "w", "x": "x", "x\\": "ɧ", "y": "y", "z": "z", "z`": "ʐ",
    "z\\": "ʑ",
    "A": "ɑ", "B": "β", "B\\": "ʙ", "C": "ç", "D": "ð", "E": "ɛ", "F": "ɱ", "G": "ɣ", "G\\": "ɢ",
    "G\\_<": "ʛ", "H": "ɥ", "H\\": "ʜ", "I": "ɪ", "I\\": "ᵻ", "J": "ɲ", "J\\": "ɟ", "J\\_<": "ʄ",
    "K": "ɬ", "K\\": "ɮ", "L": "ʎ", "L\\": "ʟ", "M": "ɯ", "M\\": "ɰ", "N": "ŋ", "N\\": "ɴ", "O": "ɔ",
    "O\\": "ʘ", "P": "ʋ", "Q": "ɒ", "R": "ʁ", "R\\": "ʀ", "S": "ʃ", "T": "θ", "U": "ʊ", "U\\": "ᵿ",
    "V": "ʌ", "W": "ʍ", "X": "χ", "X\\": "ħ", "Y": "ʏ", "Z": "ʒ",
    "@": "ə", "@\\": "ɘ", "@`": "ɚ", "{": "æ", "}": "ʉ", "1": "ɨ", "2": "ø", "3": "ɜ", "3\\": "ɞ",
    "3`": "ɝ", "4": "ɾ", "5": "ɫ", "6": "ɐ", "7": "ɤ", "8": "ɵ", "9": "œ", "&": "ɶ", "?": "ʔ",
    "?\\": "ʕ", "<\\": "ʢ", ">\\": "ʡ", "|\\": "ǀ", "!\\": "ǃ", "=\\": "ǂ", "|\\|\\": "ǁ",
    ":": "ː", ":\\": "ˑ",
}
# diacritics follow the symbol they modify
XSAMPA_DIACRITICS: Mapping[str, str] = {
    "_\"": "\u0308", "_+": "\u031f", "_-": "\u0320", "_0": "\u0325", "_=": "\u0329", "=": "\u0329",
    "_>": "ʼ", "_?\\": "ˤ", "_^": "\u032f", "_}": "\u031a", "`": "\u02de", "~": "\u0303",
    "_A": "\u0318", "_a": "\u033a", "_c": "\u031c", "_d": "\u032a", "_e": "\u0334", "_G": "ˠ",
    "_h": "ʰ", "_j": "ʲ", "'": "ʲ", "_k": "\u0330", "_l": "ˡ", "_m": "\u033b", "_N": "\u033c",
    "_n": "ⁿ", "_O": "\u0339", "_o": "\u031e", "_q": "\u0319", "_r": "\u031d", "_t": "\u0324",
    "_v": "\u032c", "_w": "ʷ", "_X": "\u0306", "_x": "\u033d",
    "_B": "\u030f", "_L": "\u0300", "_M": "\u0304", "_H": "\u0301", "_T": "\u030b", "_F": "\u0302", "_R": "\u030c",
}
_XS_STRESS = {'"': "primary", "%": "secondary"}
SAMPA_OVERRIDES: Mapping[str, Mapping[str, str]] = {
    "en": {"r": "ɹ"},            # English SAMPA: /r/ is the approximant
    "de": {"r": "ʁ"},            # German SAMPA writes /r/ as r; the standard pronunciation is ʁ
    "fr": {"r": "ʁ", "R": "ʁ"},
}
_XS_KEYS = sorted(set(XSAMPA_SYMBOLS) | set(XSAMPA_DIACRITICS) | set(_XS_STRESS), key=len, reverse=True)


def _xsampa(label: str, overrides: Mapping[str, str] = {}) -> Phone | None:
    out: list[str] = []
    stress = None
    i = 0
    while i < len(label):
        key = next((k for k in _XS_KEYS if label.startswith(k, i)), None)
        if key is None:
            return None
        i += len(key)
        if key in _XS_STRESS:
            stress = _XS_STRESS[key]
        elif key in XSAMPA_DIACRITICS and out:
            out.append(XSAMPA_DIACRITICS[key])
        elif key in XSAMPA_SYMBOLS and not (key in (":", ":\\") and not out):
            out.append(overrides.get(key, XSAMPA_SYMBOLS[key]))
        else:
            return None  # a diacritic or length mark with nothing before it
    return Phone(unicodedata.normalize("NFC", "".join(out)), stress) if out else None


# --- IPA ------------------------------------------------------------------------------------------
# MFA's IPA dictionaries write diphthongs with glides; the packs write them as vowel sequences
MFA_IPA: Mapping[str, str] = {"aj": "aɪ", "aw": "aʊ", "ej": "eɪ", "ow": "oʊ", "ɔj": "ɔɪ", "əw": "əʊ", "oj": "oɪ"}
_IPA_STRESS = {"ˈ": "primary", "ˌ": "secondary"}
_TIES = re.compile("[\u0361\u035c]")


def _ipa(label: str) -> Phone | None:
    stress = next((level for mark, level in _IPA_STRESS.items() if mark in label), None)
    s = _TIES.sub("", unicodedata.normalize("NFC", label))
    for mark in _IPA_STRESS:
        s = s.replace(mark, "")
    s = s.replace("g", "ɡ").replace("'", "")
    s = MFA_IPA.get(s, s)
    return Phone(s, stress) if s and is_known_ipa(s) else None


def read_label(label: str, notation: str, lang: str = "") -> Phone | None:
    """One label as IPA (None for silence); UnknownPhoneError when ``notation`` cannot read it."""
    if is_silence_label(label):
        return None
    phone = _reader(notation, lang)(label.strip())
    if phone is None:
        raise UnknownPhoneError([label.strip()], DISPLAY.get(notation, notation))
    return phone


def _reader(notation: str, lang: str):
    if notation == "ipa":
        return _ipa
    if notation == "arpabet":
        return _arpabet
    if notation == "x-sampa":
        return _xsampa
    if notation == "sampa":
        overrides = SAMPA_OVERRIDES.get(lang.split("-")[0].lower(), {})
        return lambda label: _xsampa(label, overrides)
    raise InputError(f"Unknown phone notation {notation!r}; use auto or one of {', '.join(NOTATIONS)}.")


# --- detection --------------------------------------------------------------------------------------
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_XSAMPA_ONLY = re.compile(r"\\|_[A-Za-z0-9\"+\-=>}^?<]")
_SAMPA_ONLY = re.compile(r"[A-Z@{}3-9&?:\"%=~`]")  # ASCII that IPA never writes for a phone


def _unread(labels: Sequence[str], notation: str, lang: str) -> tuple[str, ...]:
    reader = _reader(notation, lang)
    return tuple(dict.fromkeys(lab for lab in labels if reader(lab) is None))


def detect(labels: Iterable[str], lang: str = "") -> Detection:
    """The notation of a list of phone labels (silence ignored).

    Any non-ASCII character -> IPA. Upper-case labels that ARPAbet reads (stress digits are typical)
    -> ARPAbet. Backslashes or ``_x`` diacritics -> X-SAMPA. Other ASCII labels that use characters IPA
    does not write for phones (capitals, ``@ { 3 :``) -> SAMPA. Lower-case ASCII letters alone read the
    same in IPA and SAMPA -> IPA.
    """
    labs = [lab.strip() for lab in labels if not is_silence_label(lab)]
    if not labs:
        return Detection("ipa", 0, 0, ())

    def result(notation: str) -> Detection:
        unread = _unread(labs, notation, lang)
        bad = set(unread)
        return Detection(notation, sum(lab not in bad for lab in labs), len(labs), unread)

    if any(_NON_ASCII.search(lab) for lab in labs):
        return result("ipa")
    arpa = result("arpabet")
    upper = sum(lab == lab.upper() and any(c.isalpha() for c in lab) for lab in labs)
    digits = any(re.fullmatch(r"[A-Za-z]{2,3}[012]", lab) for lab in labs)  # some tools write ah0
    # a stressed ARPAbet vowel (AH0, IY1) is a strong sign: then a mistyped label or two are named as errors
    if (digits and arpa.read >= 0.5 * len(labs)) or (upper == len(labs) and arpa.read >= 0.8 * len(labs)):
        return arpa
    if any(_XSAMPA_ONLY.search(lab) for lab in labs):
        return result("x-sampa")
    if any(_SAMPA_ONLY.search(lab) for lab in labs):
        return result("sampa")
    return result("ipa")


def convert(labels: Sequence[str], notation: str = "auto", lang: str = "") -> tuple[list[Phone | None], Detection]:
    """Every label as IPA (None for silence), and what notation was used.

    ``notation="auto"`` detects it. Any label the notation cannot read raises UnknownPhoneError naming
    every such label (and the notation), so that nothing turns silently into silence.
    """
    labels = [lab.strip() for lab in labels]
    if notation == "auto":
        found = detect(labels, lang)
    else:
        _reader(notation, lang)  # an unknown notation name fails here
        real = [lab for lab in labels if not is_silence_label(lab)]
        unread = _unread(real, notation, lang)
        found = Detection(notation, sum(lab not in set(unread) for lab in real), len(real), unread)
    if found.unread:
        how = "detected" if notation == "auto" else "given"
        raise UnknownPhoneError(
            found.unread, DISPLAY[found.notation],
            f"the labels were read as {DISPLAY[found.notation]} ({how}; {found.read} of {found.total} read). Fix "
            "those labels, or name the notation with --notation ipa|arpabet|sampa|x-sampa.",
        )
    reader = _reader(found.notation, lang)
    return [None if is_silence_label(lab) else reader(lab) for lab in labels], found


# --- pack symbols ---------------------------------------------------------------------------------
_LENGTH = "ː"
_CLOSE = {"ɫ": "l", "ɝ": "ɚ", "ɚ": "ɝ", "ɜ˞": "ɝ", "ɒ": "ɑ"}  # when the pack lacks the first: the same mouth


def pack_symbols(symbol: str, inventory: Mapping[str, object]) -> tuple[str, ...]:
    """``symbol`` as the pack writes it: itself if listed, else with/without length, else the closest
    listed phone (ɫ -> l), else split into listed parts (a diphthong ``aɪ`` in a pack of ``a ɪ``),
    else itself (the universal fallback then gives its viseme)."""
    if not inventory or symbol in inventory:
        return (symbol,)
    for base in (symbol, _CLOSE.get(symbol, ""), _strip_modifiers(symbol)):
        for alt in (base, base + _LENGTH, base.rstrip(_LENGTH)):
            if alt and alt in inventory:
                return (alt,)
    parts = _segments(symbol)
    if len(parts) > 1 and all(is_syllabic(p) for p in parts):  # vowel sequences only, never t+ʃ
        mapped = [next((a for a in (p, p + _LENGTH, p.rstrip(_LENGTH)) if a in inventory), None) for p in parts]
        if all(mapped):
            return tuple(mapped)  # type: ignore[arg-type]
    return (symbol,)


def _strip_modifiers(symbol: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFD", symbol)
                   if unicodedata.category(ch) not in ("Mn", "Lm")) or symbol


def _segments(symbol: str) -> list[str]:
    """Base letters each with the marks and modifiers that follow it: ``aɪ`` -> a, ɪ; ``tʲa`` -> tʲ, a."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", symbol):
        if out and (unicodedata.category(ch) in ("Mn", "Lm") or ch in "ː˞"):
            out[-1] += ch
        else:
            out.append(ch)
    return out
