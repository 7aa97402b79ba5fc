"""Read a pack file (TOML via importlib.resources), merge it over its parent, validate, build the pack."""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from visemes.core.errors import PackError, UnknownLanguageError

from visemes.lang_packs.g2p import espeak_languages, espeak_voices, make_g2p
from visemes.lang_packs.normalize import Normalizer, Rule, ToneSpec
from visemes.lang_packs.pack import LanguagePack, inventory_from
from visemes.lang_packs.registry import PackFile, pack_files
from visemes.lang_packs.schema import PackSpec, validate

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MAX_DEPTH = 8


def canonical(code: str) -> str:
    return code.strip().replace("_", "-").lower()


def read_document(pf: PackFile) -> dict[str, Any]:
    try:
        return tomllib.loads(pf.path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(pf.source, "(syntax)", f"not valid TOML: {exc}.") from None
    except UnicodeDecodeError as exc:
        raise PackError(pf.source, "(encoding)", f"not UTF-8 text: {exc}.") from None


def merge(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Dialect inheritance: tables merge key by key (phones entry by entry), rules run parent's first,
    [tone] is replaced as a whole, and the child's [pack] keeps only scripts/wordfreq from the parent."""
    out = {k: v for k, v in parent.items() if k != "pack"}
    ppack = parent.get("pack", {})
    out["pack"] = {k: ppack[k] for k in ("scripts", "wordfreq") if k in ppack}
    for key, val in child.items():
        if key == "rules":
            out["rules"] = list(parent.get("rules", [])) + list(val if isinstance(val, list) else [val])
        elif key == "tone":
            out["tone"] = val
        elif key == "phones" and isinstance(val, Mapping):
            phones = dict(parent.get("phones", {}))
            for sym, entry in val.items():
                base = phones.get(sym)
                phones[sym] = {**base, **entry} if isinstance(base, Mapping) and isinstance(entry, Mapping) else entry
            out["phones"] = phones
        elif isinstance(val, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **val}
        else:
            out[key] = val
    return out


def resolved_document(code: str, _depth: int = 0) -> tuple[dict[str, Any], PackFile]:
    files = pack_files()
    pf = files[canonical(code)]
    doc = read_document(pf)
    pack = doc.get("pack", {}) if isinstance(doc.get("pack"), Mapping) else {}
    if pack.get("code") is not None and str(pack.get("code")).lower() != pf.code.lower():
        raise PackError(pf.source, "pack.code", f"{pack.get('code')!r} does not match the file name {pf.code!r}.")
    parent = pack.get("parent")
    if parent:
        if _depth >= _MAX_DEPTH:
            raise PackError(pf.source, "pack.parent", "parent chain too deep (a cycle?).")
        if canonical(str(parent)) not in files:
            raise PackError(pf.source, "pack.parent", f"no pack {parent!r} to inherit from.")
        parent_doc, _ = resolved_document(str(parent), _depth + 1)
        doc = merge(parent_doc, doc)
    return doc, pf


def spec_of(code: str, require_phones: bool = True) -> PackSpec:
    doc, pf = resolved_document(code)
    return validate(doc, pf.source, require_phones)


def build(spec: PackSpec) -> LanguagePack:
    return LanguagePack(
        code=spec.code, name=spec.name, parent=spec.parent, voice=spec.voice, backend=spec.backend,
        scripts=spec.scripts, inventory=inventory_from(spec.phones), normalizer=spec.normalizer,
        words_mode=spec.words, reader=spec.reader, vowels=spec.vowels, notes=spec.notes, sources=spec.sources, wordfreq=spec.wordfreq,
        source=spec.source, mouth=spec.mouth, _g2p=make_g2p(spec.backend, spec.voice, spec.epitran_code, spec.mnemonics),
    )


# Generic packs: espeak's IPA with tie bars removed and trailing tone digits kept as a tone attribute.
_GENERIC_TONE = ToneSpec(ipa=re.compile(r"[0-9]+$"), ipa_values=MappingProxyType({}))


# espeak-ng prints its internal phoneme name where a phoneme has no IPA spelling; packs map those in their
# rules, generic packs here (found by phonemizing wordfreq's top words with every voice that has no pack).
ESPEAK_INTERNAL: tuple[Rule, ...] = (
    Rule(re.compile(r"^sx$"), "ɧ"),          # Swedish sj-sound (sju, sjuk)
    Rule(re.compile(r"#"), "\u0325"),        # Icelandic voiceless sonorants r# l# n# m#
    Rule(re.compile("\u03b5"), "ɛ"),         # Danish: Greek epsilon for ɛ
    Rule(re.compile(r"\?"), ""),             # Danish stød, written inside the vowel (?ɑ): no mouth shape
    Rule(re.compile(r"(?<=.)-$"), ""),       # a trailing "-" (Swiss French, Korean, Vietnamese voices)
    Rule(re.compile("ʲʲ"), "ʲ"),              # Romanian tsʲʲ
    Rule(re.compile(r"^([aeiouy])\1$"), "\\1ː"),  # Lithuanian ee: a long vowel
)


def generic(voice: str) -> LanguagePack:
    return LanguagePack(
        code=voice, name=f"{voice} (generic espeak-ng voice)", parent=None, voice=voice, backend="espeak",
        scripts=(), inventory={}, normalizer=Normalizer(rules=ESPEAK_INTERNAL, tone=_GENERIC_TONE, geminate=True),
        notes="Built from the universal feature-based fallback; no hand-checked inventory.",
        _g2p=make_g2p("espeak", voice, None, False),
    )


#: The code of the pack for speech in no named language (BCP-47's "undetermined").
UNIVERSAL_CODE = "und"


@functools.lru_cache(maxsize=1)
def universal() -> LanguagePack:
    """No language (audio-only mode without ``--lang``): feature-based specs for any IPA phone, no G2P."""
    return LanguagePack(
        code=UNIVERSAL_CODE, name="no language (universal feature-based fallback)", parent=None, voice="",
        backend="none", scripts=(), inventory={}, normalizer=Normalizer(rules=(), tone=_GENERIC_TONE, geminate=True),
        notes="Audio-only mode without a language: mouth shapes from phonological features only.",
    )


@functools.lru_cache(maxsize=1)
def aliases() -> dict[str, str]:
    """Lower-case alias -> pack code, from every pack's [pack].aliases (read without full validation)."""
    out = {}
    for code in pack_files():
        doc = read_document(pack_files()[code])
        for alias in (doc.get("pack", {}) or {}).get("aliases", []) or []:
            if isinstance(alias, str):
                out[canonical(alias)] = code
    return out


@functools.lru_cache(maxsize=None)
def _load(key: str) -> LanguagePack:
    files = pack_files()
    if key not in files:
        key = aliases().get(key, key)
    if key in files:
        return build(spec_of(key))
    voices = {v.lower(): v for v in espeak_voices()}
    if key in voices:
        return generic(voices[key])
    if key in espeak_languages():  # a language a voice declares besides its main one (en, fr, no, pt-pt)
        return generic(key)
    raise UnknownLanguageError(key, [pf.code for pf in files.values()] + sorted(voices.values()), pack_names())


def pack_names() -> dict[str, str]:
    """Pack code -> language name (for "did you mean" hints on unknown codes; read only on that error path)."""
    names = {}
    for code, pf in pack_files().items():
        name = (read_document(pf).get("pack", {}) or {}).get("name")
        if isinstance(name, str):
            names[pf.code] = name
    return names


def clear_caches() -> None:
    """Forget discovered pack files and loaded packs (after installing a plug-in pack at run time)."""
    pack_files.cache_clear()
    aliases.cache_clear()
    _load.cache_clear()


def load(code: str) -> LanguagePack:
    """The pack for a BCP-47 code (case-insensitive, ``_`` allowed); a generic pack for any other
    espeak-ng voice; else UnknownLanguageError listing the closest codes."""
    if not isinstance(code, str) or not code.strip():
        raise UnknownLanguageError(str(code), [pf.code for pf in pack_files().values()])
    return _load(canonical(code))
